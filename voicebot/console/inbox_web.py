"""The NLU trainer's inbox page (``/inbox``) and its API, for trainers and supervisors.

``GET /api/inbox?lang=L`` lists unsure caller turns with the intents a trainer may choose;
``POST /api/inbox/{id}`` applies ``{"action": "accept" | "label" | "out_of_scope" | "dismiss",
"intent"}`` (validated, written to ``nlu_data/<lang>/inbox.yml``, see ``nlu/inbox_store.py``);
``POST /api/inbox/train`` retrains a language guarded (``voicebot nlu train --guard``) and
returns what it printed: the figures before and after, and whether the new model is in use.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from aiohttp import web

from voicebot import LANGUAGES
from voicebot.console.operators import SignedIn
from voicebot.nlu.inbox_store import LabelError, label, labels, pending

INBOX_ROLES = ("trainer", "supervisor")


def add_inbox(app: web.Application, db: Any, paths: Any, page: Any, same_origin: Any,
              config: str | None = None) -> None:
    training = asyncio.Lock()  # one retraining at a time: it takes a core for a minute

    def allowed(request: web.Request) -> SignedIn:
        who: SignedIn = request["operator"]
        if who.role not in INBOX_ROLES:
            raise web.HTTPForbidden(text="the inbox is for NLU trainers and supervisors")
        return who

    def language(value: Any) -> str:
        if value not in LANGUAGES:
            raise web.HTTPBadRequest(text=f"the language is one of {', '.join(LANGUAGES)}")
        return str(value)

    async def inbox_page(request: web.Request) -> web.StreamResponse:
        allowed(request)
        return page("inbox.html")

    async def list_turns(request: web.Request) -> web.StreamResponse:
        allowed(request)
        lang = language(request.query.get("lang", "en-US"))
        turns = await asyncio.get_running_loop().run_in_executor(None, pending, db, lang, 100)
        return web.json_response({"lang": lang, "turns": turns, "labels": labels()})

    async def label_turn(request: web.Request) -> web.StreamResponse:
        who = allowed(request)
        same_origin(request)
        data = await request.json()
        try:
            turn_id = int(request.match_info["id"])
            result = await asyncio.get_running_loop().run_in_executor(
                None, lambda: label(db, turn_id, str(data.get("action")), paths, intent=data.get("intent"),
                                    who=who.name))
        except (LabelError, ValueError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"status": result.status, "intent": result.intent,
                                  "file": str(result.file.relative_to(paths.root)) if result.file else None})

    async def train(request: web.Request) -> web.StreamResponse:
        allowed(request)
        same_origin(request)
        lang = language((await request.json()).get("lang"))
        if training.locked():
            return web.json_response({"error": "a retraining is already running"}, status=409)
        async with training:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "voicebot", *(["--config", config] if config else []),
                "nlu", "train", "--lang", lang, "--guard",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
            out, _ = await proc.communicate()
        lines = [line for line in out.decode(errors="replace").splitlines() if line.startswith((lang, "  "))]
        return web.json_response({"ok": proc.returncode == 0, "output": "\n".join(lines)})

    app.add_routes([web.get("/inbox", inbox_page), web.get("/api/inbox", list_turns),
                    web.post("/api/inbox/train", train), web.post(r"/api/inbox/{id:\d+}", label_turn)])
