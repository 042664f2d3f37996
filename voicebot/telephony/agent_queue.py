"""Where a caller stands in the agent queue, across every worker of the line.

Each worker publishes its calls to ``live_calls`` every second; a call waiting in the queue is
there as ``queued`` since it joined. A caller's place is one more than the fresh queued calls
that joined before them, whichever worker holds them; the expected wait is the place times
``[agents.queue] per_caller_s``. Read on the worker's database thread, never the SIP thread's.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from voicebot.bank.schema import LiveCall
from voicebot.live_calls import FRESH_S
from voicebot.telephony.agents import QueueSettings


def place_in_queue(db: Engine | None, call_id: str, since: datetime) -> int:
    """1 for the first caller waiting; without a database (or when it fails) each worker counts alone: 1."""
    if db is None:
        return 1
    try:
        with Session(db) as s:
            ahead = s.execute(select(func.count()).select_from(LiveCall).where(
                LiveCall.state == "queued", LiveCall.call_id != call_id[:128], LiveCall.waiting_since < since,
                LiveCall.updated_at >= datetime.now() - timedelta(seconds=FRESH_S))).scalar_one()
    except SQLAlchemyError:
        return 1
    return int(ahead) + 1


def expected_wait_s(place: int, settings: QueueSettings) -> float:
    return place * settings.per_caller_s
