"""``voicebot console``: the web console (aiohttp), loopback by default, sign-in required everywhere.

Pages and sockets answer only a signed-in operator: a page without a session redirects to the
sign-in form, an API call or socket gets 401. Sessions are random tokens in an HttpOnly,
SameSite=Strict cookie (``Secure`` over TLS), kept in this process (``signin``); sign-in is
rate-limited per name, per known device and per source, and its scrypt runs on a small pool
of its own. Before any of it, every request passes ``web_safety`` (Host allow-list, Origin).
The browser phone's socket carries 16 kHz PCM both ways and JSON events (see ``phone.py``);
each call runs on a thread of its own. The agent desk (``desk_web.py``) pops each handed-over
call up on the pages of its pool's agents. Threat model: ``docs/threat-model.md``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from voicebot.console.desk_web import DESK_ROLES, add_desk
from voicebot.console.inbox_web import INBOX_ROLES, add_inbox
from voicebot.console.operators import DEMO_OPERATOR, SignedIn, check_password, current, valid_name
from voicebot.console.phone import BrowserCall, PhoneParts
from voicebot.console.qa_web import AUDIT_ROLES, QA_ROLES, add_quality_review
from voicebot.console.signin import DEVICE_DAYS, Sessions, SignInGuard, hold_socket
from voicebot.console.supervisor_web import SUPERVISOR_ROLES, ReportSettings, add_supervisor
from voicebot.console.web_safety import Access, add_headers, guard_requests, local_target, same_origin
from voicebot.telephony.agents import AgentDirectory

log = logging.getLogger("voicebot.console")

STATIC = Path(__file__).parent / "static"
COOKIE, DEVICE_COOKIE = "vb_session", "vb_device"
PUBLIC = ("/login", "/health", "/static/console.css", "/static/login.js", "/static/i18n.js")
SIGN_IN_QUEUE = 8  # password checks waiting at most; more are refused at once (scrypt is dear)
MAX_CALLS_PER_OPERATOR = 2  # browser calls one operator may have open (each is a recogniser and a thread)
MAX_FRAME = 64 * 1024  # bytes in one browser-phone message (a 20-100 ms PCM chunk is a few KiB)


def _page(name: str) -> web.FileResponse:
    return web.FileResponse(STATIC / name, headers={"Cache-Control": "no-store"})


@web.middleware
async def require_sign_in(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.path in PUBLIC:
        return await handler(request)
    token = request.cookies.get(COOKIE)
    who = request.app["sessions"].get(token)
    if who is None:
        if request.path.startswith(("/api/", "/ws/")) or request.headers.get("Upgrade", "").lower() == "websocket":
            raise web.HTTPUnauthorized(text="sign in first")
        raise web.HTTPFound(f"/login?next={local_target(request.path)}")
    request["operator"], request["session"] = who, token
    return await handler(request)


async def login_form(request: web.Request) -> web.StreamResponse:
    return _page("login.html")


async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    name, password = str(form.get("name", "")).strip().lower()[:64], str(form.get("password", ""))[:1024]
    app = request.app
    guard: SignInGuard = app["guard"]
    device = request.cookies.get(DEVICE_COOKIE)
    refused = guard.begin(name, request.remote or "?", device)  # counted before the check: no parallel guessing
    if refused or app["sign_in_waiting"] >= SIGN_IN_QUEUE:
        log.warning("console sign-in refused for %r from %s: %s", name, request.remote,
                    {"name": "too many tries for this name", "source": "too many tries from this address"}.get(
                        refused or "", "too many sign-ins waiting"))
        raise web.HTTPTooManyRequests(text="too many sign-in attempts: try again in a few minutes")
    checked: tuple[SignedIn, str] | None = None
    if valid_name(name) and (app["access"].demo_operator or name != DEMO_OPERATOR[0]):
        app["sign_in_waiting"] += 1
        try:
            checked = await asyncio.get_running_loop().run_in_executor(app["scrypt"], check_password, app["db"],
                                                                       name, password)
        finally:
            app["sign_in_waiting"] -= 1
    if checked is None:
        log.warning("console sign-in failed for %r from %s", name, request.remote)
        raise web.HTTPFound("/login?failed=1")
    who, password_hash = checked
    guard.succeeded(name, device)
    log.info("console sign-in: %s (%s) from %s", who.name, who.role, request.remote)
    response = web.HTTPFound(local_target(str(request.query.get("next", "/phone"))))
    response.set_cookie(COOKIE, app["sessions"].start(who, password_hash), httponly=True,
                        samesite="Strict", path="/", secure=request.secure)
    if guard.device_of(device, name) is None:
        response.set_cookie(DEVICE_COOKIE, guard.device_cookie(name), httponly=True, samesite="Strict", path="/login",
                            max_age=DEVICE_DAYS * 86400, secure=request.secure)
    raise response


async def logout(request: web.Request) -> web.StreamResponse:
    request.app["sessions"].end(request.cookies.get(COOKIE))  # its sockets and streams close too
    response = web.HTTPFound("/login")
    response.del_cookie(COOKIE, path="/")
    raise response


async def me(request: web.Request) -> web.StreamResponse:
    who: SignedIn = request["operator"]
    return web.json_response({"name": who.name, "role": who.role, "languages": ["en-US", "zh-CN"],
                              "desk": who.role in DESK_ROLES, "inbox": who.role in INBOX_ROLES,
                              "supervisor": who.role in SUPERVISOR_ROLES, "qa": who.role in QA_ROLES,
                              "audit": who.role in AUDIT_ROLES})


async def health(request: web.Request) -> web.StreamResponse:
    """For load balancers and unit files: the console answers (no sign-in, nothing about anyone)."""
    return web.json_response({"status": "ok"})


async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/phone")


async def phone_page(request: web.Request) -> web.StreamResponse:
    return _page("phone.html")


async def phone_socket(request: web.Request) -> web.StreamResponse:
    """One browser call per socket: {"type": "start", "lang"}, then PCM and {"type": "key"|"hangup"}."""
    same_origin(request)
    who: SignedIn = request["operator"]
    open_calls: dict[str, int] = request.app["browser_calls"]
    if open_calls.get(who.name, 0) >= MAX_CALLS_PER_OPERATOR:
        raise web.HTTPTooManyRequests(text=f"at most {MAX_CALLS_PER_OPERATOR} browser calls at once: hang one up")
    open_calls[who.name] = open_calls.get(who.name, 0) + 1  # counted before any await: two at once cannot both pass
    try:
        return await _browser_call(request, who)
    finally:
        open_calls[who.name] -= 1


async def _browser_call(request: web.Request, who: SignedIn) -> web.WebSocketResponse:
    """The call on its socket: audio and keys in order on a thread of its own, the bot's audio and events back."""
    ws = web.WebSocketResponse(heartbeat=20, max_msg_size=MAX_FRAME)
    await ws.prepare(request)
    forget = hold_socket(request, ws)
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
                try:
                    data = json.loads(msg.data)
                    kind = data.get("type")
                except (ValueError, AttributeError):
                    continue
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
        forget()
        if call is not None:
            await loop.run_in_executor(worker, call.close)
        worker.shutdown(wait=False)
        await ws.close()
    return ws



def build_app(db: Any, phone: PhoneParts, agents: AgentDirectory | None = None,
              nlu_paths: Any = None, report_settings: ReportSettings | None = None, access: Access | None = None,
              config: str | None = None) -> web.Application:
    """The console; with ``agents``, its desk also answers those pools' SIP addresses; with
    ``nlu_paths``, trainers label into that project's NLU data. ``access`` says which host names
    it answers to; ``config`` is the file its child processes (seats, retraining) are given."""
    access = access or Access()
    app = web.Application(middlewares=[guard_requests, require_sign_in])
    app.on_response_prepare.append(add_headers)
    app["db"], app["phone"], app["access"] = db, phone, access
    app["sessions"] = Sessions(lambda operator_id: current(db, operator_id))
    app["guard"] = SignInGuard(access.device_key or secrets.token_bytes(32))
    app["scrypt"] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sign-in")  # never the desk's pool
    app["sign_in_waiting"], app["browser_calls"] = 0, {}
    add_desk(app, agents, db, _page, same_origin, config)
    add_supervisor(app, db, report_settings or ReportSettings(), _page)
    add_quality_review(app, db, phone.recordings, _page, same_origin)
    if nlu_paths is not None:
        add_inbox(app, db, nlu_paths, _page, same_origin, config)
    app.add_routes([
        web.get("/login", login_form), web.post("/login", login), web.post("/logout", logout),
        web.get("/", home), web.get("/health", health), web.get("/api/me", me),
        web.get("/phone", phone_page), web.get("/ws/phone", phone_socket),
        web.static("/static", STATIC),
    ])
    return app
