"""The supervisor's figures, computed from the CDRs in the database (``cdrs``).

``today`` is the wallboard's running day; ``period_report`` the report for a date range: per
region and service, the hosted branches' bill (the seed's per-transaction pricing, 按笔计价),
and each pool's answer rate per hour of the day against the seed's 80% target. Today's figures
are read from today's CDRs; a period's from the daily sums kept beside them (``cdr_daily``,
``pool_hourly``), so a year's report sums a few tens of thousands of rows, not a million calls.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from voicebot.bank.schema import Cdr, CdrDaily, PoolHourly
from voicebot.cdr import sums_of, survey_score_of


@dataclass(frozen=True)
class ReportSettings:
    """``[reports]``: the price a hosted branch pays per self-service transaction, and which
    regions are hosted (default: those whose agents are hosted centrally)."""

    price_per_transaction: Decimal = Decimal("0.50")
    hosted_regions: frozenset[str] = field(default_factory=frozenset)


ANSWER_TARGET = 0.80  # the seed: agents answer at least 80% of the calls offered to them
CENTRAL = "central"


def calls_between(db: Engine, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The CDR lines of calls that started in [start, end), oldest first."""
    with Session(db) as s:
        bodies = s.execute(select(Cdr.body).where(Cdr.started_at >= start, Cdr.started_at < end)
                           .order_by(Cdr.started_at)).scalars().all()
    return [json.loads(b) for b in bodies]


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def today(db: Engine, now: datetime | None = None) -> dict[str, Any]:
    """The wallboard's figures since midnight."""
    now = now or datetime.now()
    calls = calls_between(db, datetime.combine(now.date(), time()), now + timedelta(minutes=1))
    outcomes = Counter(c.get("outcome") for c in calls)
    pools: dict[str, Counter] = defaultdict(Counter)
    for (_day, pool, _hour), counts in sums_of(calls)[1].items():  # the same counting as the reports'
        pools[pool].update(counts)
    answer_s = [c["agent_answer_s"] for c in calls if c.get("agent_answer_s") is not None]
    replies = [ms for c in calls for ms in c.get("reply_ms", [])]
    overflows = sum(1 for c in calls if _overflowed(c))
    waiting_left = sum(1 for c in calls if any(a.get("result") == "caller_hung_up" for a in c.get("agent_attempts",
                                                                                                  [])))
    handled = len(calls) - outcomes["busy"]  # callers told the line was full were not served by anyone
    return {
        "calls": len(calls), "outcomes": dict(outcomes), "refused_line_full": outcomes["busy"],
        "containment": round(outcomes["self_service"] / handled, 3) if handled else None,
        "transfers_by_reason": dict(Counter(c.get("transfer_reason") for c in calls
                                            if c.get("outcome") == "transferred" or c.get("agent_attempts"))),
        "pools": {pool: {"offered": c["offered"], "answered": c["answered"],
                         "answer_rate": round(c["answered"] / c["offered"], 3) if c["offered"] else None,
                         "below_target": bool(c["offered"]) and c["answered"] / c["offered"] < ANSWER_TARGET}
                  for pool, c in sorted(pools.items())},
        "answer_target": ANSWER_TARGET, "overflows_to_central": overflows,
        "time_to_answer_s": {"median": _round(statistics.median(answer_s)) if answer_s else None,
                             "p90": _round(percentile(answer_s, 0.9))},
        "abandoned_waiting": waiting_left,
        "reply_ms": {"p50": percentile(replies, 0.5), "p90": percentile(replies, 0.9),
                     "p99": percentile(replies, 0.99), "turns": len(replies)},
        "survey_by_pool": {pool: {"surveys": n, "average": avg} for pool, n, avg in _survey_rows(calls, ("pool",))},
    }


def queue_rows(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per region: callers who waited in the agent queue, how it ended, and how long they waited."""
    by_region: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for call in calls:
        if call.get("queue_outcome"):
            by_region[call.get("region", "")].append(call)
    rows = []
    for region, waited in sorted(by_region.items()):
        waits = [float(c.get("queue_wait_s") or 0.0) for c in waited]
        ended = Counter(c["queue_outcome"] for c in waited)
        rows.append({"region": region, "queued": len(waited), "answered": ended["answered"],
                     "call_backs": ended["callback"], "abandoned": ended["abandoned"],
                     "average_wait_s": round(statistics.fmean(waits), 1), "longest_wait_s": round(max(waits), 1)})
    return rows


def answering_pool(call: dict[str, Any]) -> str | None:
    """The pool whose agent answered the call (what a survey after it rates), or None."""
    return next((a.get("pool") for a in call.get("agent_attempts") or [] if a.get("result") == "answered"), None)


def _survey_rows(calls: list[dict[str, Any]], keys: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """Survey scores grouped by ``keys`` (pool, region, hour): (*key, count, average), sorted."""
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for call in calls:
        score = survey_score_of(call)
        if score is None:
            continue
        values = {"pool": answering_pool(call) or "(none)", "region": call.get("region", ""),
                  "hour": datetime.fromisoformat(call["started_at"]).hour}
        groups[tuple(values[k] for k in keys)].append(score)
    return [(*key, len(v), round(statistics.fmean(v), 2)) for key, v in sorted(groups.items())]


def period_report(db: Engine, first: date, last: date, hosted: set[str], price: Decimal) -> dict[str, Any]:
    """The report for the days ``first`` to ``last`` (both included), from the daily sums."""
    in_period = (Cdr.started_at >= datetime.combine(first, time()),
                 Cdr.started_at < datetime.combine(last + timedelta(days=1), time()))
    with Session(db) as s:
        calls = s.execute(select(func.count()).select_from(Cdr).where(*in_period)).scalar_one()
        daily = s.execute(select(CdrDaily.region, CdrDaily.service, func.sum(CdrDaily.calls),
                                 func.sum(CdrDaily.transactions), func.sum(CdrDaily.transfers),
                                 func.sum(CdrDaily.agent_seconds))
                          .where(CdrDaily.day.between(first, last))
                          .group_by(CdrDaily.region, CdrDaily.service)
                          .order_by(CdrDaily.region, CdrDaily.service)).all()
        hourly = s.execute(select(PoolHourly.pool, PoolHourly.hour, func.sum(PoolHourly.offered),
                                  func.sum(PoolHourly.answered))
                           .where(PoolHourly.day.between(first, last))
                           .group_by(PoolHourly.pool, PoolHourly.hour)
                           .order_by(PoolHourly.pool, PoolHourly.hour)).all()
    rows = [{"region": r, "service": sv, "calls": int(c), "self_service_transactions": int(t),
             "transfers": int(tr), "agent_minutes": round(float(a) / 60, 1)} for r, sv, c, t, tr, a in daily]
    billing = []
    for region in sorted(hosted):
        count = sum(row["self_service_transactions"] for row in rows if row["region"] == region)
        billing.append({"region": region, "transactions": count, "price": str(price),
                        "amount": str((price * count).quantize(Decimal("0.01")))})
    answer = [{"pool": pool, "hour": int(hour), "offered": int(o), "answered": int(a),
               "answer_rate": round(int(a) / int(o), 3) if o else None} for pool, hour, o, a in hourly]
    with Session(db) as s:  # only calls whose caller rated the agent: a small share of the period's
        rated = [json.loads(b) for b in s.execute(select(Cdr.body).where(
            Cdr.survey_score.is_not(None), *in_period)).scalars()]
    surveys = [{"pool": pool, "region": region, "hour": hour, "surveys": n, "average": avg}
               for pool, region, hour, n, avg in _survey_rows(rated, ("pool", "region", "hour"))]
    with Session(db) as s:  # calls that waited in the agent queue (their lines name a queue_outcome)
        queued = [json.loads(b) for b in s.execute(select(Cdr.body).where(
            Cdr.body.like('%"queue_outcome"%'), *in_period)).scalars()]
    return {"first": first.isoformat(), "last": last.isoformat(), "calls": int(calls), "by_region_service": rows,
            "billing": billing, "answer_rate_by_hour": answer, "answer_target": ANSWER_TARGET, "surveys": surveys,
            "queue": queue_rows(queued)}


def as_csv(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV for a spreadsheet: a text cell that a spreadsheet would run as a formula
    (=, +, -, @, tab or CR first) gets a leading apostrophe; numbers are left as they are."""
    if not rows:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: _inert(v) for k, v in row.items()} for row in rows)
    return out.getvalue()


def _inert(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _overflowed(call: dict[str, Any]) -> bool:
    """Rung at a regional pool that did not answer, then at head office (the seed's 3-ring rule)."""
    pools = [a["pool"] for a in call.get("agent_attempts", [])]
    return CENTRAL in pools and pools.index(CENTRAL) > 0


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
