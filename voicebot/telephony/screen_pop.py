"""The agent's screen pop: what the bot knew of a caller when it put them through.

The SIP worker that hands a call over saves the context in the bank database under a random
token, one per pool it rings, and sends only the token to the agent seat (in the signed
``X-Voicebot-*`` headers: a transcript does not fit a SIP header). The console takes it by that
token when the seat rings and the signature holds (``take``): once, for the pool and the caller's
dialog it was saved for, within the signature's validity. Tokens are unguessable, so a caller who
sees their own (refer mode) can read nothing else; rows older than that validity, which nobody
can take any more, are deleted as new ones are written.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from voicebot.bank.schema import HandoverContext
from voicebot.redact import mask_card
from voicebot.telephony.agent_context import VALID_S

if TYPE_CHECKING:
    from voicebot.dialog.engine import DialogEngine

DESK_LANG = "en-US"  # the language of the desk's labels (the caller's is shown as a fact)
# hand-overs the bot makes itself, not from the agent menu (those are the catalogue's reasons)
_OWN_REASONS = {"pin_locked": "PIN locked after wrong attempts", "auth_failed": "the caller could not be identified",
                "system_error": "a system error during self-service", "no_match": "not understood three times",
                "no_input": "no answer three times", "out_of_scope": "asked for what the line does not offer"}


def reason_text(engine: DialogEngine, reason: str) -> str:
    """'consult' -> 'questions about our services'; 'no_match:card_number' -> '... (at card_number)'."""
    found = engine.cat.reason(reason)
    if found is not None:
        return found.label[DESK_LANG]
    kind, _, step = reason.partition(":")
    return _OWN_REASONS.get(kind, kind.replace("_", " ")) + (f" (at {step.replace('_', ' ')})" if step else "")


def context_of(engine: DialogEngine, reason: str) -> dict[str, Any]:
    """The screen pop of ``engine``'s call: masked customer, verified or not, reason, the transcript."""
    ctx = engine.ctx
    services = ctx.record.services
    done = [engine.cat.by_id[s].label[DESK_LANG] for s in services if s in engine.cat.by_id and s != "agent"]
    verified = ctx.customer is not None and ctx.customer.status == "ok"
    return {"reason": reason, "reason_text": reason_text(engine, reason), "services": list(services),
            "services_text": done,
            "language": ctx.lang, "region": ctx.region, "caller": ctx.record.caller,
            "customer": mask_card(ctx.identifier) if ctx.identifier else None,
            "customer_kind": ctx.customer.kind if verified else None, "verified": verified,
            "call_started_at": ctx.record.started_at.isoformat(),
            "handover_at": datetime.now().astimezone().isoformat(),
            "transcript": engine.records.transcript.to_json()}


def new_token() -> str:
    return secrets.token_urlsafe(16)


def save(db: Engine, body: dict[str, Any], *, pool: str, call_id: str, token: str | None = None) -> str:
    """Store ``body`` for ``pool`` and the caller's dialog ``call_id`` under ``token`` (a new one if
    None); the token. Old contexts are deleted on the way."""
    token = token or new_token()
    now = datetime.now()
    stored = {"body": body, "pool": pool, "call_id": call_id}
    with Session(db) as s, s.begin():
        s.execute(delete(HandoverContext).where(HandoverContext.created_at < now - timedelta(seconds=VALID_S)))
        s.add(HandoverContext(token=token, created_at=now, body=json.dumps(stored, ensure_ascii=False)))
    return token


def take(db: Engine, token: str, *, pool: str, call_id: str) -> dict[str, Any] | None:
    """The context saved under ``token`` for ``pool`` and ``call_id``, once: the row is deleted as it
    is read, so a token seen on the wire pops nothing a second time. None when there is none, it
    is older than a signed context may be (``VALID_S``), or it was saved for another pool or call."""
    if not token or len(token) > 64:
        return None
    with Session(db) as s, s.begin():
        row = s.execute(select(HandoverContext).where(HandoverContext.token == token)).scalar_one_or_none()
        if row is None:
            return None
        stored, created_at = json.loads(row.body), row.created_at
        # the first reader wins: a concurrent one deletes nothing and gets nothing
        if s.execute(delete(HandoverContext).where(HandoverContext.token == token)).rowcount != 1:
            return None
    if created_at < datetime.now() - timedelta(seconds=VALID_S):
        return None
    if stored.get("pool") != pool or stored.get("call_id") != call_id:
        return None
    return stored.get("body")
