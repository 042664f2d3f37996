"""Calls in progress, published for the wallboard: the console's narrow window onto the workers.

Each process that serves calls (a SIP worker, the console's browser phone) hands ``publish`` a
snapshot of its calls about once a second; a thread of its own replaces that process's rows of
the ``live_calls`` table in one transaction, so a slow database never holds a call and a
snapshot that finds the writer busy is simply skipped. Readers take rows updated in the last
``FRESH_S`` seconds: a worker that died drops off the board by itself.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
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
        self._empty = False  # the last snapshot written had no calls

    def publish(self, calls: list[CallState]) -> None:
        """Replace this process's rows with ``calls``, on a thread of its own (skipped if one is running,
        and while there is nothing to show twice in a row: an idle worker writes nothing)."""
        if self.db is None or (not calls and self._empty) or not self._busy.acquire(blocking=False):
            return
        self._empty = not calls
        threading.Thread(target=self._write, args=(calls,), name="live-calls", daemon=True).start()

    def clear(self) -> None:
        """Remove this process's rows now (a clean stop)."""
        if self.db is not None:
            with self._busy:
                self._write_rows([])

    def _write(self, calls: list[CallState]) -> None:
        try:
            self._write_rows(calls)
        finally:
            self._busy.release()

    def _write_rows(self, calls: list[CallState]) -> None:
        now = datetime.now()
        try:
            with Session(self.db) as s, s.begin():
                s.execute(delete(LiveCall).where(LiveCall.worker == self.worker))
                s.add_all(LiveCall(worker=self.worker, updated_at=now, **vars(c)) for c in calls)
            self._failing = False
        except SQLAlchemyError as exc:
            if not self._failing:
                log.warning("cannot publish live calls (%s): the wallboard misses this worker's calls",
                            type(exc).__name__)
            self._failing = True


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
