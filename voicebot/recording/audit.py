"""The recordings' audit log: who played or exported which call, when and from where.

Rows are only ever added (``write_audit``); the console reads them for supervisors and offers
no route that changes one. A playback or export that cannot be written down does not happen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from voicebot.bank.schema import RecordingAudit


def write_audit(db: Engine, operator: str, role: str, action: str, call_id: str, source: str) -> None:
    with Session(db) as s, s.begin():
        s.add(RecordingAudit(at=datetime.now(), operator=operator[:64], role=role[:16], action=action[:16],
                             call_id=call_id[:128], source=source[:64]))


def audit_log(db: Engine, limit: int = 200) -> list[dict[str, Any]]:
    with Session(db) as s:
        rows = s.execute(select(RecordingAudit).order_by(RecordingAudit.id.desc()).limit(limit)).scalars().all()
        return [{"at": r.at.isoformat(timespec="seconds"), "operator": r.operator, "role": r.role,
                 "action": r.action, "call_id": r.call_id, "source": r.source} for r in rows]
