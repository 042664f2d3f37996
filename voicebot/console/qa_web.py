"""Quality review in the console (``/qa``), for supervisors and the ``qa`` role.

``GET /api/qa/calls?day=&region=&service=&outcome=&pool=&survey=`` finds calls;
``GET /api/qa/calls/{id}`` is one call: its CDR fields, recording index (paused spans),
transcript (masked as everywhere) and reviews. ``POST /api/qa/calls/{id}/play`` writes the
playback to the audit log and returns a short-lived address of the audio for this session;
``POST /api/qa/calls/{id}/review`` scores the call against the checklist. ``GET /api/qa/audit``
(supervisors) reads the audit log; no route changes it.
"""

from __future__ import annotations

import asyncio
import io
import logging
import secrets
import time
from datetime import date
from typing import Any

import soundfile as sf
from aiohttp import web

from voicebot.console import qa
from voicebot.console.operators import SignedIn
from voicebot.recording.audit import audit_log, write_audit
from voicebot.recording.sealing import SealingError
from voicebot.recording.store import RecordingNotFound, RecordingStore, mixed

log = logging.getLogger("voicebot.console")

QA_ROLES = ("supervisor", "qa")
AUDIT_ROLES = ("supervisor",)
TICKET_S = 600  # an audio address lasts this long (the page may seek and replay within it)


def add_quality_review(app: web.Application, db: Any, store: RecordingStore | None, page: Any,
                       same_origin: Any) -> None:
    tickets: dict[str, tuple[str, str, float]] = {}  # token -> (call id, session, expiry)

    def allowed(request: web.Request, roles: tuple[str, ...] = QA_ROLES) -> SignedIn:
        who: SignedIn = request["operator"]
        if who.role not in roles:
            raise web.HTTPForbidden(text="quality review is for supervisors and QA reviewers")
        return who

    def recordings() -> RecordingStore:
        if store is None or store.key is None:
            raise web.HTTPNotFound(text="calls are not recorded here ([recording] enabled = false)")
        return store

    async def run(fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    async def qa_page(request: web.Request) -> web.StreamResponse:
        allowed(request)
        return page("qa.html")

    async def find(request: web.Request) -> web.StreamResponse:
        allowed(request)
        q = request.query
        try:
            day = date.fromisoformat(q.get("day") or date.today().isoformat())
        except ValueError as exc:
            raise web.HTTPBadRequest(text="the day is YYYY-MM-DD") from exc
        calls = await run(lambda: qa.find_calls(db, store, day, region=q.get("region", ""),
                                                service=q.get("service", ""), outcome=q.get("outcome", ""),
                                                pool=q.get("pool", ""), survey=q.get("survey", "")))
        return web.json_response({"day": day.isoformat(), "calls": calls})

    async def one_call(request: web.Request) -> web.StreamResponse:
        allowed(request)
        call_id = request.match_info["call_id"]

        def read() -> dict[str, Any]:
            out: dict[str, Any] = {"call_id": call_id, "checklist": qa.CHECKLIST, "reviews": qa.reviews_of(db, call_id)}
            try:
                info = recordings().find(call_id)
            except RecordingNotFound:
                log.info("quality review: no recording of call %s under %s", call_id, recordings().root)
                return {**out, "recording": None, "transcript": []}
            return {**out, "recording": {k: v for k, v in info.to_json().items() if k not in ("file", "key_id")},
                    "transcript": recordings().transcript(info)}

        try:
            return web.json_response(await run(read))
        except SealingError as exc:
            raise web.HTTPConflict(text=f"the recording cannot be opened: {exc}") from exc

    async def play(request: web.Request) -> web.StreamResponse:
        who = allowed(request)
        same_origin(request)
        call_id = request.match_info["call_id"]
        try:
            await run(recordings().find, call_id)
        except RecordingNotFound as exc:
            raise web.HTTPNotFound(text="no recording of this call") from exc
        await run(write_audit, db, who.name, who.role, "play", call_id, request.remote or "?")
        now = time.monotonic()
        for token in [t for t, (_, _, until) in tickets.items() if until < now]:
            del tickets[token]
        token = secrets.token_urlsafe(24)
        tickets[token] = (call_id, request["session"], now + TICKET_S)
        return web.json_response({"audio": f"/api/qa/audio/{token}"})

    async def audio(request: web.Request) -> web.StreamResponse:
        allowed(request)
        ticket = tickets.get(request.match_info["token"])
        if ticket is None or ticket[1] != request["session"] or ticket[2] < time.monotonic():
            raise web.HTTPNotFound(text="ask to play the call again")

        def wav() -> bytes:
            rec = recordings()
            info = rec.find(ticket[0])
            out = io.BytesIO()
            sf.write(out, mixed(rec.audio(info)), info.rate, format="WAV", subtype="PCM_16")
            return out.getvalue()

        try:
            body = await run(wav)
        except (RecordingNotFound, SealingError) as exc:
            raise web.HTTPNotFound(text=f"the recording cannot be played: {exc}") from exc
        return web.Response(body=body, content_type="audio/wav", headers={"Cache-Control": "no-store"})

    async def review(request: web.Request) -> web.StreamResponse:
        who = allowed(request)
        same_origin(request)
        data = await request.json()
        try:
            saved = await run(qa.save_review, db, who.name, request.match_info["call_id"],
                              dict(data.get("checks") or {}), str(data.get("comment") or ""))
        except (qa.ReviewError, TypeError, ValueError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(saved)

    async def audit(request: web.Request) -> web.StreamResponse:
        allowed(request, AUDIT_ROLES)
        return web.json_response({"entries": await run(audit_log, db)})

    app.add_routes([web.get("/qa", qa_page), web.get("/api/qa/calls", find), web.get("/api/qa/audit", audit),
                    web.get(r"/api/qa/calls/{call_id}", one_call), web.post(r"/api/qa/calls/{call_id}/play", play),
                    web.post(r"/api/qa/calls/{call_id}/review", review), web.get(r"/api/qa/audio/{token}", audio)])
