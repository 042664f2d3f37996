"""Per-call state the flows share: language, region, who the caller is, what was done."""

from __future__ import annotations

import logging
import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from voicebot.bank.bank import Bank
from voicebot.bank.views import AuthResult
from voicebot.catalogue import Catalogue
from voicebot.dialog import prompts
from voicebot.dialog.actions import Action, Collect, Hangup, Say, ServiceResult, Transfer
from voicebot.nlu.parser import NluResult, Parser
from voicebot.redact import CARD_DIGITS

log = logging.getLogger("voicebot.dialog")


@dataclass
class CallRecord:
    """What the CDR says about a call; filled in as the call goes."""

    call_id: str
    caller: str | None
    language: str
    region: str
    started_at: datetime = field(default_factory=lambda: datetime.now().astimezone())
    ended_at: datetime | None = None
    services: list[str] = field(default_factory=list)
    intents: list[dict[str, Any]] = field(default_factory=list)
    outcome: str | None = None
    transfer_target: str | None = None
    transfer_reason: str | None = None
    agent_answer_s: float | None = None
    agent_attempts: list[dict[str, Any]] = field(default_factory=list)  # pools rung: pool, uri, result, ring_s
    callback_requested: bool | None = None
    worker: str | None = None  # the SIP worker that served the call (cluster CDRs share one file)
    channel: str = "text"  # sip | browser | mic | text: set by the channel that serves the call
    agent_connected_at: datetime | None = None  # the agent answered: their minutes run from here
    reply_ms: list[int] = field(default_factory=list)  # each turn's end of speech to the bot's first audio
    survey_score: int | None = None  # 1-5: the caller's rating after an agent conversation
    queue_place: int | None = None  # the place the caller joined the agent queue at
    queue_wait_s: float | None = None  # time in the queue
    queue_outcome: str | None = None  # answered | callback | abandoned
    survey_asked: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id, "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat() if self.ended_at else None, "caller": self.caller,
            "language": self.language, "region": self.region, "services": self.services,
            "intents": self.intents, "outcome": self.outcome, "transfer_target": self.transfer_target,
            "transfer_reason": self.transfer_reason, "agent_answer_s": self.agent_answer_s,
            "agent_attempts": self.agent_attempts, "callback_requested": self.callback_requested,
            **({"worker": self.worker} if self.worker else {}),
            "channel": self.channel,
            "agent_connected_at": self.agent_connected_at.isoformat() if self.agent_connected_at else None,
            **({"reply_ms": self.reply_ms} if self.reply_ms else {}),
            **({"survey_score": self.survey_score} if self.survey_asked else {}),
            **({"queue_place": self.queue_place, "queue_wait_s": self.queue_wait_s, "queue_outcome": self.queue_outcome}
               if self.queue_place is not None else {}),
        }


@dataclass
class DialogSettings:
    """Dialog policy: agent addresses and how sure the NLU must be before acting."""

    agent_uri: str = "sip:agents-{region}@127.0.0.1"
    min_confidence: float = 0.5
    min_confidence_money: float = 0.7
    min_asr_confidence: float = 0.35  # a transcript the recogniser itself doubts is asked again
    max_failures: int = 3
    agent_target: Callable[[str], str] | None = None  # region -> the pool to ring first (telephony config)
    inbox_keep_days: int = 30  # unsure caller turns kept for the trainer's inbox this long; 0: not kept
    survey: bool = True  # after an agent hangs up, the caller is asked to rate the service (1-5)


_CARD_LIKE = re.compile(rf"\d{{{CARD_DIGITS[0]},}}")


def new_call_id(hex_digits: int = 32) -> str:
    """A random hex call id that logs, CDRs and recordings will not mask as a card number: one
    with a run of twelve digits or more (a uuid's hex has one in about one call in thirty) is
    drawn again."""
    while True:
        drawn = secrets.token_hex(hex_digits // 2)
        if not _CARD_LIKE.search(drawn):
            return drawn


class CallContext:
    """Everything a flow may use; flows speak through ``say`` and end through ``transfer``."""

    def __init__(self, bank: Bank, nlu: Parser | None, cat: Catalogue, settings: DialogSettings, *,
                 lang: str, region: str, call_id: str | None, caller: str | None) -> None:
        self.bank = bank
        self.nlu = nlu
        self.cat = cat
        self.settings = settings
        self.lang = lang
        self.region = region
        self.call_id = call_id or new_call_id()
        self.customer: AuthResult | None = None
        self.identifier: str | None = None  # card/account number used to log in (never logged whole)
        self.slots: dict[str, Any] = {}
        self.next_menu: str | None = None  # a flow may send the caller to a menu instead of "anything else"
        self.next_service: tuple[Any, Any, str] | None = None  # ... or to another service (a correction)
        self.last_nlu: NluResult | None = None
        self.last_period: tuple[date, date] | None = None  # the last period read out ("and the month before that")
        self.out: list[Action] = []
        self.ended = False
        self.record = CallRecord(self.call_id, caller, lang, region)
        self._ops = 0
        # idempotency keys are the server's: a caller's SIP Call-ID is neither unique nor short
        self._op_scope = uuid.uuid4().hex

    @property
    def customer_id(self) -> int:
        """The signed-in customer's id; a flow that moves or reads an account runs only after sign-in."""
        if self.customer is None or self.customer.customer_id is None:
            raise RuntimeError(f"call={self.call_id}: a service that needs sign-in ran without it")
        return self.customer.customer_id

    def t(self, name: str, /, **values: object) -> str:
        return prompts.text(name, self.lang, **values)

    def say(self, name: str, /, **values: object) -> None:
        self.out.append(Say(self.t(name, **values)))

    def say_text(self, text: str) -> None:
        self.out.append(Say(text))

    def say_and_wait(self, name: str, expect: str) -> None:
        """Say a fixed sentence, then wait at the same step without saying its prompt again."""
        self.say(name)
        self.out.append(Collect(expect))

    def done(self, service_id: str, status: str, **details: Any) -> None:
        self.out.append(ServiceResult(service_id, status, details))
        if status != "cancelled":
            self.record.services.append(service_id)
        log.info("call=%s service=%s status=%s", self.call_id, service_id, status)

    def transfer(self, reason: str) -> None:
        route = self.settings.agent_target
        target = route(self.region) if route else self.settings.agent_uri.format(region=self.region, reason=reason)
        self.out.append(Transfer(target, reason))
        self.record.outcome = "transferred"
        self.record.transfer_target = target
        self.record.transfer_reason = reason
        self.ended = True
        log.info("call=%s transfer reason=%s target=%s", self.call_id, reason, target)

    def hangup(self) -> None:
        self.out.append(Hangup())
        self.ended = True

    def op_key(self, what: str) -> str:
        """This call's idempotency key for its next bank operation (made here, never by the caller)."""
        self._ops += 1
        return f"{self._op_scope}:{self._ops}:{what}"

    def take_slot(self, name: str) -> Any:
        return self.slots.pop(name, None)

    def flush(self) -> list[Action]:
        out, self.out = self.out, []
        return out
