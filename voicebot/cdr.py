"""Call detail records: one JSON line per finished call, card numbers masked, never a PIN.

Every line goes to the JSON-lines file at once, and into the database's ``cdrs`` table on a
thread of its own (a slow or unreachable database never holds a call's thread). When the
database does not take a line, the file still has it: the next line that goes through first
loads whatever the database is missing from the file, as ``voicebot cdr load`` does by hand.
Nothing is lost, and nothing is stored twice: (call_id, started_at) is unique. In the same
transaction the daily sums reports read (``cdr_daily``, ``pool_hourly``) are brought up to date.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from voicebot.dialog.context import CallRecord
from voicebot.redact import redact

log = logging.getLogger("voicebot.cdr")


def cdr_line(record: CallRecord) -> str:
    """One JSON line; every text in it redacted, numbers (timings) left as they are: redacting the
    serialised line would read a list of reply times, '[622, 601, 700, 121]', as a card number."""
    return json.dumps(_redacted(record.to_json()), ensure_ascii=False)


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    return value


def append_cdr(path: str | Path, record: CallRecord) -> str:
    """Append one line atomically enough for several writers (O_APPEND, one write call); the line."""
    line = cdr_line(record)
    _append(Path(path), line)
    return line


class CdrSink:
    """Where a process's finished calls go: the file now, the database in the background."""

    def __init__(self, path: str | Path, db: Engine | None, pool: ThreadPoolExecutor | None = None) -> None:
        """``pool``: the one thread the process writes to its database from (one of our own if None)."""
        self.path = Path(path)
        self.db = db
        self.behind = db is not None  # lines of earlier runs may be missing: caught up on the first write
        self._pool = pool or (ThreadPoolExecutor(max_workers=1, thread_name_prefix="cdr-db") if db is not None
                              else None)

    def write(self, record: CallRecord) -> None:
        line = append_cdr(self.path, record)
        if self._pool is not None:
            self._pool.submit(self._store, line)

    def close(self) -> None:
        """Wait for the lines still on their way to the database (shuts the pool down)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def _store(self, line: str) -> None:
        try:
            row_of(line)
        except (ValueError, KeyError, TypeError):  # kept in the file; a bad line must not stop the rest
            log.error("CDR line for the database is not valid: %s", line[:120])
            return
        try:
            if self.behind:
                loaded = load_file(self.db, self.path)
                if loaded:
                    log.info("CDR database caught up: %d lines loaded from %s", loaded, self.path)
            else:
                store_lines(self.db, [line])
            self.behind = False
        except SQLAlchemyError as exc:
            if not self.behind:
                log.warning("CDR database unreachable (%s): lines are kept in %s and loaded when it is back",
                            type(exc).__name__, self.path)
            self.behind = True


def row_of(line: str) -> dict[str, Any]:
    data = json.loads(line)
    return {"call_id": str(data["call_id"])[:128], "started_at": _local(data["started_at"]),
            "ended_at": _local(data["ended_at"]) if data.get("ended_at") else None,
            "channel": data.get("channel") or "sip", "language": data.get("language") or "",
            "region": data.get("region") or "", "outcome": data.get("outcome") or "abandoned",
            "transfer_reason": data.get("transfer_reason"), "agent_answer_s": data.get("agent_answer_s"),
            "worker": data.get("worker"), "survey_score": survey_score_of(data), "body": line}


def survey_score_of(cdr: dict[str, Any]) -> int | None:
    """The caller's 1-5 rating in a CDR line, or None (not asked, skipped, or not a rating)."""
    value = cdr.get("survey_score")
    return value if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5 else None


def store_lines(db: Engine, lines: list[str]) -> int:
    """Insert the lines (a few hundred at most) the database does not have yet; how many were new."""
    from voicebot.bank.schema import Cdr

    rows = [row_of(line) for line in lines if line.strip()]
    if not rows:
        return 0
    keys = {(r["call_id"], r["started_at"]) for r in rows}
    with Session(db) as s:
        have = set(s.execute(select(Cdr.call_id, Cdr.started_at).where(
            tuple_(Cdr.call_id, Cdr.started_at).in_(keys))).all())
    new = [r for r in rows if (r["call_id"], r["started_at"]) not in have]
    new = list({(r["call_id"], r["started_at"]): r for r in new}.values())
    try:
        with Session(db) as s, s.begin():
            s.add_all(Cdr(**r) for r in new)
            s.flush()
            add_sums(s, [json.loads(r["body"]) for r in new])
    except IntegrityError:  # another worker loaded some of them meanwhile: one at a time
        stored = 0
        for r in new:
            try:
                with Session(db) as s, s.begin():
                    s.add(Cdr(**r))
                    s.flush()
                    add_sums(s, [json.loads(r["body"])])
                stored += 1
            except IntegrityError:
                pass
        return stored
    return len(new)


def sums_of(calls: list[dict[str, Any]]) -> tuple[dict[tuple, Counter], dict[tuple, Counter]]:
    """What ``calls`` add to the daily sums: per (day, region, service) and per (day, pool, hour).

    A call counts once under each service it ran ("(none)" if it ran none; asking for an agent
    is not a transaction); its transfer and agent minutes count under its last service. An
    offer the caller hung up on is not the pool's miss.
    """
    daily: dict[tuple, Counter] = defaultdict(Counter)
    hourly: dict[tuple, Counter] = defaultdict(Counter)
    for call in calls:
        started = _local(call["started_at"])
        region = call.get("region") or "?"
        done = [s for s in call.get("services", []) if s != "agent"]
        for service in dict.fromkeys(done or ["(none)"]):
            row = daily[(started.date(), region, service)]
            row["calls"] += 1
            row["transactions"] += done.count(service)
        last = daily[(started.date(), region, (done or ["(none)"])[-1])]
        last["transfers"] += call.get("outcome") == "transferred" or bool(call.get("agent_attempts"))
        last["agent_seconds"] += agent_seconds(call)
        for attempt in call.get("agent_attempts", []):
            if attempt.get("result") != "caller_hung_up":
                slot = hourly[(started.date(), attempt["pool"], started.hour)]
                slot["offered"] += 1
                slot["answered"] += attempt.get("result") == "answered"
    return daily, hourly


def add_sums(session: Session, calls: list[dict[str, Any]]) -> None:
    """Add ``calls`` to the daily sums, inside the caller's transaction (an upsert per row)."""
    from voicebot.bank.schema import CdrDaily, PoolHourly

    daily, hourly = sums_of(calls)
    for (day, region, service), c in daily.items():
        _upsert(session, CdrDaily.__table__, {"day": day, "region": region, "service": service},
                {"calls": c["calls"], "transactions": c["transactions"], "transfers": c["transfers"],
                 "agent_seconds": float(c["agent_seconds"])})
    for (day, pool, hour), c in hourly.items():
        _upsert(session, PoolHourly.__table__, {"day": day, "pool": pool, "hour": hour},
                {"offered": c["offered"], "answered": c["answered"]})


def agent_seconds(call: dict[str, Any]) -> float:
    """How long the caller spent with an agent (from the agent's answer to the end of the call)."""
    if not call.get("agent_connected_at") or not call.get("ended_at"):
        return 0.0
    return max(0.0, (_local(call["ended_at"]) - _local(call["agent_connected_at"])).total_seconds())


def _upsert(session: Session, table: Any, keys: dict[str, Any], add: dict[str, Any]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(table).values(**keys, **add)
    session.execute(stmt.on_conflict_do_update(index_elements=list(keys),
                                               set_={k: table.c[k] + stmt.excluded[k] for k in add}))


def load_file(db: Engine, path: Path) -> int:
    """Load every line of a CDR file the database is missing; how many."""
    if not path.exists():
        return 0
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    good = []
    for n, line in enumerate(lines, 1):
        try:
            row_of(line)
            good.append(line)
        except (ValueError, KeyError, TypeError):
            if line.strip():
                log.warning("%s:%d is not a CDR line: skipped", path, n)
    return sum(store_lines(db, good[i:i + 400]) for i in range(0, len(good), 400))


def local_naive(when: datetime) -> datetime:
    """The database's time: this host's local time, without a zone (the same on every worker of a site)."""
    return when.astimezone().replace(tzinfo=None) if when.tzinfo else when


def _local(iso: str) -> datetime:
    return local_naive(datetime.fromisoformat(iso))


def _append(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)
