"""``voicebot console``: the web console (aiohttp), loopback by default, sign-in required everywhere.

Pages and sockets answer only a signed-in operator: a page without a session redirects to the
sign-in form, an API call or socket gets 401. Sessions are random tokens in an HttpOnly,
SameSite=Strict cookie, kept in this process (a restart signs everyone out); repeated wrong
passwords for a name lock that name for a while. The browser phone's socket carries 16 kHz PCM
both ways and JSON events (see ``phone.py``); each call runs on a thread of its own. The agent
desk (``desk_web.py``) pops each handed-over call up on the pages of its pool's agents.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from voicebot.console.desk_web import DESK_ROLES, add_desk
from voicebot.console.inbox_web import INBOX_ROLES, add_inbox
from voicebot.console.operators import SignedIn, check_password
from voicebot.console.phone import BrowserCall, PhoneParts
from voicebot.console.supervisor_web import SUPERVISOR_ROLES, ReportSettings, add_supervisor
from voicebot.telephony.agents import AgentDirectory

log = logging.getLogger("voicebot.console")

STATIC = Path(__file__).parent / "static"
COOKIE = "vb_session"
PUBLIC = ("/login", "/health", "/static/console.css", "/static/login.js")
IDLE_S = 30 * 60  # a session unused this long ends
MAX_FAILURES, LOCK_S = 5, 300  # wrong passwords in a row before a name is locked, and for how long


@dataclass
class Sessions:
    """Signed-in operators by session token (in this process only)."""

    live: dict[str, tuple[SignedIn, float]] = field(default_factory=dict)
    failures: dict[str, tuple[int, float]] = field(default_factory=dict)

    def start(self, who: SignedIn) -> str:
        token = secrets.token_urlsafe(32)
        self.live[token] = (who, time.monotonic())
        return token

    def get(self, token: str | None) -> SignedIn | None:
        entry = self.live.get(token or "")
        if entry is None:
            return None
        if time.monotonic() - entry[1] > IDLE_S:
            del self.live[token]
            return None
        self.live[token] = (entry[0], time.monotonic())
        return entry[0]

    def end(self, token: str | None) -> None:
        self.live.pop(token or "", None)

    def locked(self, name: str) -> bool:
        count, since = self.failures.get(name, (0, 0.0))
        return count >= MAX_FAILURES and time.monotonic() - since < LOCK_S

    def failed(self, name: str) -> None:
        count, _ = self.failures.get(name, (0, 0.0))
        self.failures[name] = (count + 1, time.monotonic())


def _page(name: str) -> web.FileResponse:
    return web.FileResponse(STATIC / name, headers={"Cache-Control": "no-store"})


@web.middleware
async def require_sign_in(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.path in PUBLIC:
        return await handler(request)
    who = request.app["sessions"].get(request.cookies.get(COOKIE))
    if who is None:
        if request.path.startswith(("/api/", "/ws/")) or request.headers.get("Upgrade", "").lower() == "websocket":
            raise web.HTTPUnauthorized(text="sign in first")
        raise web.HTTPFound(f"/login?next={request.path}")
    request["operator"] = who
    response = await handler(request)
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


async def login_form(request: web.Request) -> web.StreamResponse:
    return _page("login.html")


async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    name, password = str(form.get("name", "")).strip().lower(), str(form.get("password", ""))
    sessions: Sessions = request.app["sessions"]
    if sessions.locked(name):
        log.warning("console sign-in refused: %s is locked after wrong passwords", name)
        raise web.HTTPTooManyRequests(text="too many wrong passwords: try again in a few minutes")
    loop = asyncio.get_running_loop()
    who = await loop.run_in_executor(None, check_password, request.app["db"], name, password)
    if who is None:
        sessions.failed(name)
        log.warning("console sign-in failed for %r", name)
        raise web.HTTPFound("/login?failed=1")
    sessions.failures.pop(name, None)
    log.info("console sign-in: %s (%s)", who.name, who.role)
    target = str(request.query.get("next", "/phone"))
    local = target.startswith("/") and not target.startswith(("//", "/\\")) and "\\" not in target
    response = web.HTTPFound(target if local else "/phone")  # never to another site ("//x", "/\\x")
    response.set_cookie(COOKIE, sessions.start(who), httponly=True, samesite="Strict", path="/")
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    request.app["sessions"].end(request.cookies.get(COOKIE))
    response = web.HTTPFound("/login")
    response.del_cookie(COOKIE, path="/")
    raise response


async def me(request: web.Request) -> web.StreamResponse:
    who: SignedIn = request["operator"]
    return web.json_response({"name": who.name, "role": who.role, "languages": ["en-US", "zh-CN"],
                              "desk": who.role in DESK_ROLES, "inbox": who.role in INBOX_ROLES,
                              "supervisor": who.role in SUPERVISOR_ROLES})


async def health(request: web.Request) -> web.StreamResponse:
    """For load balancers and unit files: the console answers (no sign-in, nothing about anyone)."""
    return web.json_response({"status": "ok"})


async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/phone")


async def phone_page(request: web.Request) -> web.StreamResponse:
    return _page("phone.html")


def same_origin(request: web.Request) -> None:
    """Refuse a socket or a change asked by another site's page (it would act with this operator's session)."""
    origin, host = request.headers.get("Origin", ""), request.headers.get("Host", "")
    if origin and origin.split("://", 1)[-1] != host:
        raise web.HTTPForbidden(text="cross-origin socket refused")


async def phone_socket(request: web.Request) -> web.StreamResponse:
    """One browser call per socket: {"type": "start", "lang"}, then PCM and {"type": "key"|"hangup"}."""
    same_origin(request)
    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=1 << 20)
    await ws.prepare(request)
    who: SignedIn = request["operator"]
    loop = asyncio.get_running_loop()
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="browser-call")  # one call, in order
    call: BrowserCall | None = None

    async def flush(bot: bytes = b"") -> None:
        if bot:
            await ws.send_bytes(bot)
        for event in await loop.run_in_executor(worker, call.take_events):
            await ws.send_str(json.dumps(event, ensure_ascii=False))

    try:
        async for msg in ws:
            if msg.type == WSMsgType.BINARY and call is not None and not call.closed:
                await flush(await loop.run_in_executor(worker, call.audio, msg.data))
            elif msg.type == WSMsgType.TEXT:
                data = json.loads(msg.data)
                kind = data.get("type")
                if kind == "start" and call is None:
                    lang = data.get("lang") if data.get("lang") in ("en-US", "zh-CN") else "en-US"
                    call = await loop.run_in_executor(worker, BrowserCall, request.app["phone"], lang, who.name)
                    await ws.send_str(json.dumps({"type": "started", "call_id": call.call_id, "lang": lang}))
                    await flush()
                elif kind == "key" and call is not None:
                    await loop.run_in_executor(worker, call.key, str(data.get("digit", ""))[:1])
                    await flush()
                elif kind == "hangup" and call is not None:
                    await loop.run_in_executor(worker, call.hang_up)
                    await flush()
                    break
            if call is not None and call.closed:
                break
    finally:
        if call is not None:
            await loop.run_in_executor(worker, call.close)
        worker.shutdown(wait=False)
        await ws.close()
    return ws


def build_app(db: Any, phone: PhoneParts, agents: AgentDirectory | None = None,
              nlu_paths: Any = None, report_settings: ReportSettings | None = None) -> web.Application:
    """The console; with ``agents``, its desk also answers those pools' SIP addresses; with
    ``nlu_paths``, trainers label into that project's NLU data."""
    app = web.Application(middlewares=[require_sign_in])
    app["db"], app["phone"], app["sessions"] = db, phone, Sessions()
    add_desk(app, agents, db, _page, same_origin)
    add_supervisor(app, db, report_settings or ReportSettings(), _page)
    if nlu_paths is not None:
        add_inbox(app, db, nlu_paths, _page, same_origin)
    app.add_routes([
        web.get("/login", login_form), web.post("/login", login), web.post("/logout", logout),
        web.get("/", home), web.get("/health", health), web.get("/api/me", me),
        web.get("/phone", phone_page), web.get("/ws/phone", phone_socket),
        web.static("/static", STATIC),
    ])
    return app
