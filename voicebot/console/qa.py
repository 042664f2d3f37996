"""Quality review's data: calls found by day and what their CDRs say, the reviews scored
against the checklist, and the append-only audit log of every playback and export.

Calls come from the ``cdrs`` table (one day at a time; the rest of the filters are read from
each line) joined with the recordings index of that day. The audit log is
``recording.audit``'s: nothing in the console deletes or changes a row of it.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from voicebot.bank.schema import Cdr, QaReview
from voicebot.console.reports import answering_pool
from voicebot.recording.store import RecordingStore

# What a reviewer checks on every call (labels in both languages: the console shows either).
CHECKLIST = {
    "greeting": {"en-US": "Greeted and offered help", "zh-CN": "问候并提供帮助"},
    "identity": {"en-US": "Identity checked before account details", "zh-CN": "查询账户前核实身份"},
    "understood": {"en-US": "The request was understood", "zh-CN": "正确理解客户需求"},
    "resolved": {"en-US": "Resolved, or handed over with the reason", "zh-CN": "问题解决或说明原因后转人工"},
    "courtesy": {"en-US": "Courteous and clear throughout", "zh-CN": "全程礼貌清晰"},
}
MAX_COMMENT = 1000
MAX_CALLS = 500


def find_calls(db: Engine, store: RecordingStore | None, day: date, *, region: str = "", service: str = "",
               outcome: str = "", pool: str = "", survey: str = "") -> list[dict[str, Any]]:
    """The day's calls matching every filter given, newest first, with whether each was recorded."""
    start = datetime.combine(day, time())
    with Session(db) as s:
        rows = s.execute(select(Cdr.body, Cdr.survey_score).where(Cdr.started_at >= start,
                                                                  Cdr.started_at < start + timedelta(days=1))
                         .order_by(Cdr.started_at.desc()).limit(MAX_CALLS * 4)).all()
    recorded = {info.call_id: info for info in store.infos_of_day(day)} if store is not None else {}
    found = []
    for body, survey_score in rows:
        cdr = json.loads(body)
        answered = answering_pool(cdr)
        pools = [answered] if answered else []
        if (region and cdr.get("region") != region) or (service and service not in cdr.get("services", [])) \
                or (outcome and cdr.get("outcome") != outcome) or (pool and pool not in pools) \
                or (survey and str(survey_score) != survey):
            continue
        info = recorded.get(cdr["call_id"])
        found.append({"call_id": cdr["call_id"], "started_at": cdr["started_at"], "channel": cdr.get("channel"),
                      "language": cdr.get("language"), "region": cdr.get("region"),
                      "services": cdr.get("services", []), "outcome": cdr.get("outcome"), "pools": pools,
                      "survey_score": survey_score, "recorded": info is not None,
                      "duration_s": info.duration_s if info else None})
        if len(found) >= MAX_CALLS:
            break
    return found


class ReviewError(ValueError):
    pass


def save_review(db: Engine, operator: str, call_id: str, checks: dict[str, Any], comment: str) -> dict[str, Any]:
    """Score a call: every checklist item answered yes or no; the score is the share met, in %."""
    if set(checks) != set(CHECKLIST) or not all(isinstance(v, bool) for v in checks.values()):
        raise ReviewError(f"answer every checklist item yes or no: {', '.join(CHECKLIST)}")
    if len(comment) > MAX_COMMENT:
        raise ReviewError(f"the comment is at most {MAX_COMMENT} characters")
    score = round(100 * sum(checks.values()) / len(CHECKLIST))
    with Session(db) as s, s.begin():
        s.add(QaReview(call_id=call_id[:128], operator=operator, at=datetime.now(),
                       checklist=json.dumps(checks), score=score, comment=comment))
    return {"call_id": call_id, "score": score}


def reviews_of(db: Engine, call_id: str) -> list[dict[str, Any]]:
    with Session(db) as s:
        rows = s.execute(select(QaReview).where(QaReview.call_id == call_id).order_by(QaReview.id)).scalars().all()
        return [{"operator": r.operator, "at": r.at.isoformat(timespec="seconds"), "score": r.score,
                 "checklist": json.loads(r.checklist), "comment": r.comment} for r in rows]
