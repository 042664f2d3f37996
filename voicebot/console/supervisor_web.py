"""The supervisor's pages: the live wallboard (``/wallboard``) and reports for a period (``/reports``).

The wallboard reads the calls in progress that every worker publishes (``live_calls``), the
agents of this console's desk, and today's CDRs; ``/api/wallboard/stream`` pushes it every
``PUSH_S`` seconds as server-sent events. Reports are queries on the CDRs of the period, as
JSON, as charts (SVG drawn on the server) and as CSV files.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from datetime import date, timedelta
from typing import Any

from aiohttp import web

from voicebot import live_calls
from voicebot.console import charts, reports
from voicebot.console.operators import SignedIn
from voicebot.console.reports import ReportSettings

SUPERVISOR_ROLES = ("supervisor",)
PUSH_S = 2.0
CHARTS = {"calls_by_region": lambda r: charts.calls_by_region(r["by_region_service"]),
          "answer_rate_by_hour": lambda r: charts.answer_rate_by_hour(r["answer_rate_by_hour"], r["answer_target"])}
TABLES = ("by_region_service", "billing", "answer_rate_by_hour", "surveys", "queue")
MAX_DAYS = 366


def add_supervisor(app: web.Application, db: Any, settings: ReportSettings, page: Any) -> None:
    def allowed(request: web.Request) -> SignedIn:
        who: SignedIn = request["operator"]
        if who.role not in SUPERVISOR_ROLES:
            raise web.HTTPForbidden(text="the wallboard and reports are for supervisors")
        return who

    def board() -> dict[str, Any]:
        return {"live": live_calls.live_calls(db), "today": reports.today(db), "agents": _agents(app)}

    async def wallboard_page(request: web.Request) -> web.StreamResponse:
        allowed(request)
        return page("wallboard.html")

    async def wallboard(request: web.Request) -> web.StreamResponse:
        allowed(request)
        return web.json_response(await asyncio.get_running_loop().run_in_executor(None, board))

    async def stream(request: web.Request) -> web.StreamResponse:
        allowed(request)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"})
        await response.prepare(request)
        while request.app["sessions"].alive(request["session"]):  # signing out ends the stream
            data = await asyncio.get_running_loop().run_in_executor(None, board)
            try:
                await response.write(f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode())
            except (ConnectionResetError, RuntimeError):
                break
            await asyncio.sleep(PUSH_S)
        return response

    def period(request: web.Request) -> dict[str, Any]:
        try:
            last = date.fromisoformat(request.query.get("last", date.today().isoformat()))
            first = date.fromisoformat(request.query.get("first", (last - timedelta(days=6)).isoformat()))
        except ValueError as exc:
            raise web.HTTPBadRequest(text="dates are YYYY-MM-DD") from exc
        if first > last or (last - first).days >= MAX_DAYS:
            raise web.HTTPBadRequest(text=f"the period runs forwards and is at most {MAX_DAYS} days")
        return reports.period_report(db, first, last, set(settings.hosted_regions), settings.price_per_transaction)

    async def reports_page(request: web.Request) -> web.StreamResponse:
        allowed(request)
        return page("reports.html")

    async def report(request: web.Request) -> web.StreamResponse:
        allowed(request)
        return web.json_response(await asyncio.get_running_loop().run_in_executor(None, period, request))

    async def chart(request: web.Request) -> web.StreamResponse:
        allowed(request)
        draw = CHARTS.get(request.match_info["name"])
        if draw is None:
            raise web.HTTPNotFound(text="no such chart")
        svg = await asyncio.get_running_loop().run_in_executor(None, lambda: draw(period(request)))
        return web.Response(text=svg, content_type="image/svg+xml")

    async def table(request: web.Request) -> web.StreamResponse:
        allowed(request)
        name = request.match_info["name"]
        if name not in TABLES:
            raise web.HTTPNotFound(text="no such table")
        data = await asyncio.get_running_loop().run_in_executor(None, period, request)
        return web.Response(text=reports.as_csv(data[name]), content_type="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{name}-{data["first"]}-{data["last"]}.csv"'})

    async def publish_browser_calls(_app: web.Application) -> None:
        board_rows = live_calls.LiveBoard(db, f"console:{os.getpid()}")

        async def loop() -> None:
            while True:
                phone = app["phone"]
                board_rows.publish([c.live_state() for c in list(phone.active)])
                await asyncio.sleep(live_calls.EVERY_S)

        app["browser_board"] = asyncio.create_task(loop())

    async def stop_publishing(_app: web.Application) -> None:
        task = app.get("browser_board")
        if task is not None:
            task.cancel()

    app.on_startup.append(publish_browser_calls)
    app.on_cleanup.append(stop_publishing)
    app.add_routes([web.get("/wallboard", wallboard_page), web.get("/api/wallboard", wallboard),
                    web.get("/api/wallboard/stream", stream), web.get("/reports", reports_page),
                    web.get("/api/reports", report), web.get(r"/api/reports/{name}.svg", chart),
                    web.get(r"/api/reports/{name}.csv", table)])


def _agents(app: web.Application) -> dict[str, dict[str, int]]:
    """Agents of this console's desk per pool: available, busy (on a call) or away."""
    desk = app.get("desk")
    out: dict[str, Counter] = {pool: Counter(available=0, busy=0, away=0) for pool in (desk.stats if desk else ())}
    for agent in desk.agents.values() if desk else ():
        if agent.pool in out:
            out[agent.pool]["busy" if agent.call else "available" if agent.available else "away"] += 1
    return {pool: dict(c) for pool, c in out.items()}
