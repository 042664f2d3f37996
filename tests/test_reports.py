"""The supervisor's figures (issue 20) on made-up CDRs with known answers: today's wallboard
numbers, a period's report (regions and services, hosted-branch billing, answer rate per pool
and hour), CSV and charts; and the live calls workers publish for the wallboard."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from voicebot.bank.db import make_engine
from voicebot.cdr import store_lines
from voicebot.console import charts, reports
from voicebot.live_calls import CallState, LiveBoard, live_calls


@pytest.fixture
def db(db_url: str):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def cdr(n: int, when: datetime, region: str, outcome: str, services: list[str], attempts=(), answer_s=None,
        agent_s: float = 0.0, reply_ms=(), reason=None) -> str:
    ended = when + timedelta(seconds=60 + agent_s)
    return json.dumps({
        "call_id": f"c{n}", "started_at": when.astimezone().isoformat(), "ended_at": ended.astimezone().isoformat(),
        "caller": "13800000000", "language": "en-US", "region": region, "services": services, "intents": [],
        "outcome": outcome, "transfer_target": None, "transfer_reason": reason, "agent_answer_s": answer_s,
        "agent_attempts": [{"pool": p, "uri": "sip:x", "result": r, "ring_s": 1.0} for p, r in attempts],
        "callback_requested": None, "channel": "sip",
        "agent_connected_at": (ended - timedelta(seconds=agent_s)).astimezone().isoformat() if agent_s else None,
        "reply_ms": list(reply_ms)})


@pytest.fixture
def day(db) -> datetime:
    at = datetime.combine(date.today(), datetime.min.time()) + timedelta(hours=9)
    store_lines(db, [
        cdr(1, at, "010", "self_service", ["account.balance", "bill.pay.electricity"], reply_ms=[600, 700, 900]),
        cdr(2, at + timedelta(minutes=5), "010", "transferred", ["agent"], [("010", "answered")], 4.0, 120,
            reason="complaint", reply_ms=[650]),
        cdr(3, at + timedelta(hours=1), "010", "transferred", ["account.balance", "agent"],
            [("010", "no_answer"), ("central", "answered")], 19.0, 60, reason="consult"),
        cdr(4, at + timedelta(hours=1, minutes=2), "021", "abandoned", ["agent"], [("021", "caller_hung_up")],
            reason="consult"),
        cdr(5, at + timedelta(hours=2), "852", "self_service", ["account.balance", "fx.rates", "agent"]),
        cdr(6, at - timedelta(days=3), "852", "self_service", ["account.balance"]),
    ])
    return at


def test_todays_figures_for_the_wallboard(db, day: datetime) -> None:
    t = reports.today(db, day + timedelta(hours=3))
    assert t["calls"] == 5 and t["containment"] == 0.4
    assert t["pools"]["010"] == {"offered": 2, "answered": 1, "answer_rate": 0.5, "below_target": True}
    assert t["pools"]["central"]["answer_rate"] == 1.0 and not t["pools"]["central"]["below_target"]
    assert t["refused_line_full"] == 0


def test_callers_refused_while_the_line_was_full_are_counted_apart_not_as_served(db, day: datetime) -> None:
    store_lines(db, [cdr(7, day + timedelta(hours=2, minutes=5), "010", "busy", [])])
    t = reports.today(db, day + timedelta(hours=3))
    assert t["calls"] == 6 and t["refused_line_full"] == 1
    assert t["containment"] == 0.4  # 2 of the 5 calls served, as before the refused one
    assert "021" not in t["pools"]  # the caller hung up: not the seat's miss
    assert t["overflows_to_central"] == 1 and t["abandoned_waiting"] == 1
    assert t["time_to_answer_s"] == {"median": 11.5, "p90": 19.0}
    assert t["reply_ms"]["p50"] == 700 and t["reply_ms"]["turns"] == 4
    assert t["transfers_by_reason"] == {"complaint": 1, "consult": 2}


def test_a_periods_report_and_the_hosted_branches_bill(db, day: datetime) -> None:
    r = reports.period_report(db, day.date() - timedelta(days=7), day.date(), {"852"}, Decimal("0.35"))
    assert r["calls"] == 6
    rows = {(x["region"], x["service"]): x for x in r["by_region_service"]}
    assert rows[("010", "account.balance")]["calls"] == 2
    assert rows[("010", "account.balance")]["self_service_transactions"] == 2
    assert rows[("010", "(none)")]["transfers"] == 1 and rows[("010", "(none)")]["agent_minutes"] == 2.0
    assert rows[("010", "account.balance")]["agent_minutes"] == 1.0
    # 852 is hosted at head office: 3 self-service transactions (asking for an agent is none) x 0.35
    assert r["billing"] == [{"region": "852", "transactions": 3, "price": "0.35", "amount": "1.05"}]
    hourly = {(x["pool"], x["hour"]): x["answer_rate"] for x in r["answer_rate_by_hour"]}
    assert hourly == {("010", 9): 1.0, ("010", 10): 0.0, ("central", 10): 1.0}
    assert reports.as_csv(r["billing"]).splitlines() == ["region,transactions,price,amount", "852,3,0.35,1.05"]
    assert "<svg" in charts.calls_by_region(r["by_region_service"])
    assert "<svg" in charts.answer_rate_by_hour(r["answer_rate_by_hour"], r["answer_target"])
    empty = reports.period_report(db, date(2020, 1, 1), date(2020, 1, 2), set(), Decimal("1"))
    assert empty["calls"] == 0 and "no calls" in charts.calls_by_region(empty["by_region_service"])


def test_the_daily_sums_match_the_calls_whatever_the_order_they_arrive_in(db, day: datetime) -> None:
    """Loading the same lines again adds nothing; sums made line by line equal sums made at once."""
    from voicebot.bank.schema import CdrDaily

    lines = [json.loads(b) for b in _bodies(db)]
    store_lines(db, [json.dumps(x) for x in lines])
    with db.connect() as conn:
        stored = {(r.day, r.region, r.service): (r.calls, r.transactions, r.transfers, round(r.agent_seconds, 1))
                  for r in conn.execute(select(CdrDaily))}
    from voicebot.cdr import sums_of

    daily, _ = sums_of(lines)
    assert stored == {k: (c["calls"], c["transactions"], c["transfers"], round(c["agent_seconds"], 1))
                      for k, c in daily.items()}


def _bodies(db) -> list[str]:
    from voicebot.bank.schema import Cdr

    with db.connect() as conn:
        return list(conn.execute(select(Cdr.body)).scalars())


def test_calls_in_progress_as_workers_publish_them(db) -> None:
    now = datetime.now()
    a, b = LiveBoard(db, "10.0.0.1:5061"), LiveBoard(db, "10.0.0.2:5061")
    a.publish([CallState("x1", "sip", "en-US", "010", "menu:main", "self_service", now - timedelta(seconds=30)),
               CallState("x2", "sip", "zh-CN", "021", None, "waiting", now - timedelta(seconds=90),
                         now - timedelta(seconds=12))])
    b.publish([CallState("y1", "sip", "en-US", "852", "pin", "self_service", now)])
    deadline = time.monotonic() + 5
    while len(live_calls(db)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    rows = {r["call_id"]: r for r in live_calls(db)}
    assert set(rows) == {"x1", "x2", "y1"} and rows["x2"]["waiting_s"] >= 12 and rows["x1"]["duration_s"] >= 30
    a.clear()
    assert {r["call_id"] for r in live_calls(db)} == {"y1"}
    assert live_calls(db, now + timedelta(seconds=60)) == []  # a worker that stopped publishing drops off


def test_an_unchanged_snapshot_is_written_again_only_to_stay_fresh(db, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every worker publishes each second: what did not change is not written again until its rows
    would otherwise start to age (REFRESH_S), and a changed snapshot is written at once."""
    from voicebot import live_calls as live

    board, now = LiveBoard(db, "10.0.0.3:5061"), datetime.now()
    call = CallState("z1", "sip", "en-US", "010", "menu:main", "self_service", now)

    def written(step: str | None) -> datetime:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            rows = [r for r in live_calls(db) if r["call_id"] == "z1" and r["step"] == step]
            if rows and not board._busy.locked():
                with db.connect() as conn:
                    return conn.execute(select(live.LiveCall.updated_at)).scalar_one()
            time.sleep(0.02)
        raise AssertionError(f"no row at step {step}")

    board.publish([call])
    first = written("menu:main")
    time.sleep(0.05)
    board.publish([call])  # the same: not written again
    time.sleep(0.2)
    assert written("menu:main") == first
    board.publish([replace(call, step="card_number")])  # changed: written at once
    assert written("card_number") > first
    monkeypatch.setattr(live, "REFRESH_S", 0.0)  # as if REFRESH_S had passed
    moved = written("card_number")
    time.sleep(0.05)
    board.publish([replace(call, step="card_number")])
    time.sleep(0.2)
    assert written("card_number") > moved
    board.clear()


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_made_inert() -> None:
    """A pool or service name such as '=HYPERLINK(...)' (from configuration or a caller) must open as text."""
    from voicebot.console import reports

    rows = [{"pool": '=HYPERLINK("http://evil.example","x")', "calls": 3, "note": "+1", "rate": -2},
            {"pool": "@SUM(A1)", "calls": 0, "note": "010", "rate": 0.5}]
    lines = reports.as_csv(rows).splitlines()
    assert lines[1].startswith("\"'=HYPERLINK(") and ",3,'+1,-2" in lines[1]
    assert lines[2] == "'@SUM(A1),0,010,0.5"
