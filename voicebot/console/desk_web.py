"""The agent desk's page and socket (``/desk``, ``/ws/desk``) and its SIP seats' life cycle.

Agents and supervisors may use it. Each signed-in agent's pages get the desk's messages over
one WebSocket each (``Desk.notify``); the agent's commands come back on it:
``{"type": "status", "pool", "available"}``, ``{"type": "accept" | "decline" | "hangup", "call"}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiohttp import WSMsgType, web

from voicebot.console.desk import Desk, SeatProcess, pool_addresses
from voicebot.console.operators import SignedIn
from voicebot.console.signin import hold_socket
from voicebot.telephony import screen_pop
from voicebot.telephony.agents import AgentDirectory

log = logging.getLogger("voicebot.console")

DESK_ROLES = ("agent", "supervisor")


def add_desk(app: web.Application, directory: AgentDirectory | None, db: Any, page: Any, same_origin: Any,
             config: str | None = None) -> None:
    """Serve the desk on ``app``; with a ``directory``, answer its pools' SIP addresses too (seats
    started with the console's ``config``, so they check the hand-over with the same secret)."""
    sockets: dict[str, set[web.WebSocketResponse]] = {}
    addresses = pool_addresses(directory) if directory else {}
    pools = sorted({pool for by_user in addresses.values() for pool in by_user.values()})

    def notify(name: str, message: dict[str, Any]) -> None:
        text = json.dumps(message, ensure_ascii=False)
        for ws in list(sockets.get(name, ())):
            if not ws.closed:
                asyncio.get_running_loop().create_task(ws.send_str(text))

    desk = Desk(pools, notify)
    pops = ThreadPoolExecutor(max_workers=2, thread_name_prefix="screen-pop")  # never behind sign-in's scrypt

    def take_pop(token: str, pool: str, call_id: str) -> dict[str, Any] | None:
        return screen_pop.take(db, token, pool=pool, call_id=call_id)

    seats = [SeatProcess(host, port, by_user, desk, take_pop, config, pops)
             for (host, port), by_user in addresses.items()]
    app["desk"] = desk

    async def start_seats(_app: web.Application) -> None:
        for seat in seats:
            await seat.start()
            log.info("desk: answering pools %s on sip:%s", ", ".join(sorted(seat.pools.values())), seat.address)

    async def stop_seats(_app: web.Application) -> None:
        for seat in seats:
            await seat.stop()
        pops.shutdown(wait=False)

    app.on_startup.append(start_seats)
    app.on_cleanup.append(stop_seats)

    async def desk_page(request: web.Request) -> web.StreamResponse:
        if request["operator"].role not in DESK_ROLES:
            raise web.HTTPForbidden(text="the agent desk is for agents and supervisors")
        return page("desk.html")

    async def desk_socket(request: web.Request) -> web.StreamResponse:
        who: SignedIn = request["operator"]
        if who.role not in DESK_ROLES:
            raise web.HTTPForbidden(text="the agent desk is for agents and supervisors")
        same_origin(request)
        ws = web.WebSocketResponse(heartbeat=20, max_msg_size=16 * 1024)
        await ws.prepare(request)
        forget = hold_socket(request, ws)
        sockets.setdefault(who.name, set()).add(ws)
        desk.assign(who.name, who.pools)
        await ws.send_str(json.dumps(desk.state_of(who.name)))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    data = json.loads(msg.data)
                except ValueError:
                    continue
                kind, call = data.get("type"), str(data.get("call", ""))
                if kind == "status":
                    now = request.app["sessions"].get(request["session"])  # pools may have changed since
                    if now is None:
                        break
                    desk.assign(who.name, now.pools)
                    pool = data.get("pool")
                    desk.set_status(who.name, pool if isinstance(pool, str) else None, bool(data.get("available")))
                elif kind == "accept":
                    desk.accept(who.name, call)
                elif kind == "decline":
                    desk.decline(who.name, call)
                elif kind == "hangup":
                    desk.hang_up(who.name, call)
        finally:
            forget()
            sockets.get(who.name, set()).discard(ws)
            if not sockets.get(who.name):
                desk.leave(who.name)
        return ws

    app.add_routes([web.get("/desk", desk_page), web.get("/ws/desk", desk_socket)])
