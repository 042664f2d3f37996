"""Calls in progress, published for the wallboard: the console's narrow window onto the workers.

Each process that serves calls (a SIP worker, the console's browser phone) hands ``publish`` a
snapshot of its calls about once a second; a thread of its own replaces that process's rows of
the ``live_calls`` table in one transaction, so a slow database never holds a call and a
snapshot that finds the writer busy is simply skipped. A snapshot like the last one written is
written again only every ``REFRESH_S`` (every worker of a cluster publishes: a write costs a
transaction). Readers take rows updated in the last ``FRESH_S`` seconds: a worker that died
drops off the board by itself.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from voicebot.bank.schema import LiveCall
from voicebot.cdr import local_naive

if TYPE_CHECKING:
    from voicebot.dialog.context import CallContext

log = logging.getLogger("voicebot.live")

EVERY_S = 1.0
FRESH_S = 10.0
REFRESH_S = 4.0  # an unchanged snapshot is written again this often (well within FRESH_S)


@dataclass(frozen=True)
class CallState:
    call_id: str
    channel: str
    language: str
    region: str
    step: str | None
    state: str  # self_service | waiting (an agent's phone rings) | queued | with_agent
    started_at: datetime
    waiting_since: datetime | None = None


def state_of(ctx: CallContext, step: str | None, channel: str, call_id: str, waiting_since: datetime | None = None,
             with_agent: bool = False, queued: bool = False) -> CallState:
    """What the board shows of one call at dialog ``step`` (read from another thread: a moment stale at worst);
    a queued call's ``waiting_since`` is when it joined the queue."""
    state = "with_agent" if with_agent else "queued" if queued else "waiting" if waiting_since is not None \
        else "self_service"
    return CallState(call_id[:128], channel, ctx.lang, ctx.region, step, state,
                     local_naive(ctx.record.started_at), local_naive(waiting_since) if waiting_since else None)


class LiveBoard:
    """One process's rows of ``live_calls``."""

    def __init__(self, db: Engine | None, worker: str) -> None:
        self.db, self.worker = db, worker[:64]
        self._busy = threading.Lock()
        self._failing = False
        self._last: list[CallState] | None = None  # the last snapshot written, and when
        self._written = 0.0

    def publish(self, calls: list[CallState]) -> None:
        """Replace this process's rows with ``calls``, on a thread of its own (skipped if one is running,
        and while nothing changed: then only every ``REFRESH_S``, and never for an idle worker)."""
        now = time.monotonic()
        if self.db is None or (calls == self._last and (not calls or now - self._written < REFRESH_S)):
            return
        if not self._busy.acquire(blocking=False):
            return
        self._last, self._written = list(calls), now
        threading.Thread(target=self._write, args=(calls,), name="live-calls", daemon=True).start()

    def clear(self) -> None:
        """Remove this process's rows now (a clean stop)."""
        if self.db is not None:
            with self._busy:
                self._write_rows([])
                self._last = None

    def _write(self, calls: list[CallState]) -> None:
        try:
            self._write_rows(calls)
        finally:
            self._busy.release()

    def _write_rows(self, calls: list[CallState]) -> None:
        now = datetime.now()
        if self.db is None:
            return
        try:
            with self.db.begin() as conn:  # Core statements: the ORM's unit of work cost more than the write
                conn.execute(delete(LiveCall).where(LiveCall.worker == self.worker))
                if calls:
                    conn.execute(insert(LiveCall), [dict(worker=self.worker, updated_at=now, **vars(c)) for c in calls])
            self._failing = False
        except SQLAlchemyError as exc:
            if not self._failing:
                log.warning("cannot publish live calls (%s): the wallboard misses this worker's calls",
                            type(exc).__name__)
            self._failing = True
            self._last = None  # not written: the next snapshot is, whatever it holds


def live_calls(db: Engine, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every fresh call in progress, oldest first, with its duration and time waiting in seconds."""
    now = now or datetime.now()
    with Session(db) as s:
        rows = s.execute(select(LiveCall).where(LiveCall.updated_at >= now - timedelta(seconds=FRESH_S))
                         .order_by(LiveCall.started_at)).scalars().all()
        return [{"call_id": r.call_id, "worker": r.worker, "channel": r.channel, "language": r.language,
                 "region": r.region, "step": r.step, "state": r.state,
                 "duration_s": max(0, round((now - r.started_at).total_seconds())),
                 "waiting_s": round((now - r.waiting_since).total_seconds()) if r.waiting_since else None}
                for r in rows]
