"""Wallboard and report speed with a year of calls: one million CDRs in PostgreSQL.

Usage: .venv/bin/python bench/reports_bench.py [--calls 1000000] [--runs 5]
Starts a throw-away PostgreSQL (tests/pg.py), migrates it, loads made-up CDRs spread over the
last 365 days (regions, services, transfers, agent pools with misses and overflows) with their
daily sums as the workers keep them, then times what the console asks: the wallboard update
(calls in progress and today's figures) and the report for a week, a month and the year.
Prints medians of --runs; asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.nlu_bench import machine
from tests.pg import TestPostgres
from voicebot.bank.db import make_engine, migrate
from voicebot.cdr import sums_of
from voicebot.cluster.processes import free_port
from voicebot.console import reports
from voicebot.live_calls import live_calls

REGIONS = ["010", "021", "020", "0755", "852"]
SERVICES = ["account.balance", "account.today", "account.history", "transfer.local", "bill.pay.electricity",
            "bill.pay.mobile", "fx.rates", "card.report_loss", "card.activate", "region.branch_info"]


def made_up(n: int, now: datetime, rng: random.Random) -> dict:
    started = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
    region = rng.choice(REGIONS)
    services = rng.sample(SERVICES, rng.choice([0, 1, 1, 1, 2, 2, 3]))
    attempts, outcome, answer_s, connected = [], "self_service" if services else "abandoned", None, None
    if rng.random() < 0.2:
        services.append("agent")
        pools = [region, "central"] if region != "852" else ["central"]
        for pool in pools:
            result = rng.choices(["answered", "no_answer", "caller_hung_up"], [0.82, 0.14, 0.04])[0]
            attempts.append({"pool": pool, "uri": f"sip:agents-{pool}@10.0.0.5", "result": result, "ring_s": 4.0})
            if result != "no_answer":
                break
        outcome = "transferred" if attempts[-1]["result"] == "answered" else "abandoned"
        if outcome == "transferred":
            answer_s = round(rng.uniform(2, 15), 1)
            connected = started + timedelta(seconds=60 + answer_s)
    ended = started + timedelta(seconds=rng.uniform(40, 400) + (240 if connected else 0))
    return {"call_id": f"bench-{n}", "started_at": started.astimezone().isoformat(),
            "ended_at": ended.astimezone().isoformat(), "caller": "13800000000", "language": "en-US",
            "region": region, "services": services, "intents": [], "outcome": outcome, "transfer_target": None,
            "transfer_reason": "consult" if attempts else None, "agent_answer_s": answer_s,
            "agent_attempts": attempts, "callback_requested": None, "channel": "sip", "worker": "10.0.0.7:5061",
            "agent_connected_at": connected.astimezone().isoformat() if connected else None,
            "reply_ms": [rng.randint(550, 1100) for _ in range(rng.randint(0, 4))]}


def load(engine: Engine, calls: int) -> float:
    """COPY the made-up calls into cdrs, then their daily sums; seconds taken."""
    started, rng, now = time.monotonic(), random.Random(7), datetime.now()
    daily_total, hourly_total = {}, {}
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        for chunk in range(0, calls, 50_000):
            batch = [made_up(n, now, rng) for n in range(chunk, min(calls, chunk + 50_000))]
            out = io.StringIO()
            writer = csv.writer(out)
            for c in batch:
                writer.writerow([c["call_id"], datetime.fromisoformat(c["started_at"]).replace(tzinfo=None),
                                 datetime.fromisoformat(c["ended_at"]).replace(tzinfo=None), c["channel"],
                                 c["language"], c["region"], c["outcome"], c["transfer_reason"] or "",
                                 c["agent_answer_s"] if c["agent_answer_s"] is not None else "", c["worker"],
                                 json.dumps(c)])
            out.seek(0)
            cur.copy_expert("COPY cdrs (call_id, started_at, ended_at, channel, language, region, outcome, "
                            "transfer_reason, agent_answer_s, worker, body) FROM STDIN WITH (FORMAT csv, "
                            "NULL '')", out)
            daily, hourly = sums_of(batch)
            for key, c in daily.items():
                daily_total.setdefault(key, {"calls": 0, "transactions": 0, "transfers": 0, "agent_seconds": 0.0})
                for k in daily_total[key]:
                    daily_total[key][k] += c[k]
            for key, c in hourly.items():
                hourly_total.setdefault(key, {"offered": 0, "answered": 0})
                for k in hourly_total[key]:
                    hourly_total[key][k] += c[k]
            print(f"  {min(calls, chunk + 50_000):>9,} calls loaded", flush=True)
        cur.executemany("INSERT INTO cdr_daily VALUES (%s, %s, %s, %s, %s, %s, %s)",
                        [(*k, v["calls"], v["transactions"], v["transfers"], v["agent_seconds"])
                         for k, v in daily_total.items()])
        cur.executemany("INSERT INTO pool_hourly VALUES (%s, %s, %s, %s, %s)",
                        [(*k, v["offered"], v["answered"]) for k, v in hourly_total.items()])
        raw.commit()
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    return time.monotonic() - started


def timed(runs: int, job: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        job()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    server = TestPostgres(Path(tempfile.mkdtemp(prefix="voicebot-reports-bench-")), free_port()).start()
    try:
        server.sql("CREATE DATABASE bench")
        engine = make_engine(server.url("bench"))
        migrate(engine)
        print(f"loading {args.calls:,} made-up CDRs over a year into PostgreSQL ...", flush=True)
        seconds = load(engine, args.calls)
        today = date.today()
        print(f"machine: {machine()}; loaded in {seconds:.0f} s")
        board = timed(args.runs, lambda: (live_calls(engine), reports.today(engine)))
        print(f"  wallboard update (calls in progress + today's figures, {reports.today(engine)['calls']:,} calls "
              f"today): median {board:.0f} ms")
        for label, days in (("a week", 7), ("a month", 30), ("the year", 365)):
            ms = timed(args.runs, lambda d=days: reports.period_report(
                engine, today - timedelta(days=d - 1), today, {"852"}, Decimal("0.50")))
            print(f"  report for {label}: median {ms:.0f} ms")
        engine.dispose()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
