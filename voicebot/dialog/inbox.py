"""The NLU trainer's inbox, per call: caller turns the NLU was unsure about, and what came next.

A turn is kept when free speech was parsed and the bot did not simply act on it: nothing was
understood (``not_understood``), the bot asked "did you mean" or "which of two"
(``clarified``), or opened a family menu (``family``). The last parsed turn of a call that
ends at an agent is kept too (``agent``). How the call went on is the caller's next move:
``yes`` / ``no`` to a clarification, ``chose`` a family member, ``keys``, ``agent``, ``rephrased``, ``silence``,
``hung_up``. Texts are masked (digit runs, payee names); the PIN step is never parsed, so
nothing from it can be kept. The engine calls ``before`` and ``after`` around each event.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from voicebot.dialog.events import Event, HangUp, Keys, NoInput, Speech
from voicebot.redact import redact

if TYPE_CHECKING:
    from voicebot.dialog.context import CallContext
    from voicebot.dialog.steering import Steering

log = logging.getLogger("voicebot.dialog")

MAX_TURNS = 20  # per call
_CLARIFY_STEPS = ("did_you_mean", "which_service")


@dataclass
class Watch:
    """The engine's state just before an event: what the event changed is judged against it."""

    nlu: Any
    failures: int
    service: Any
    menu_path: str
    services_done: int


@dataclass
class TurnInbox:
    turns: list[dict[str, Any]] = field(default_factory=list)
    pending: dict[str, Any] | None = None  # the last kept turn, waiting for the caller's next move
    last_parsed: dict[str, Any] | None = None  # the last parsed turn, kept if the call ends at an agent

    def before(self, engine: Steering) -> Watch:
        return Watch(engine.ctx.last_nlu, engine.failures, engine.service, engine.menu_path,
                     len(engine.ctx.record.services))

    def after(self, engine: Steering, event: Event, watch: Watch) -> None:
        # services begun this turn: still running, or already done (a rate is read out at once)
        started = set(engine.ctx.record.services[watch.services_done:])
        if engine.service is not None and engine.service is not watch.service:
            started.add(engine.service.id)
        if self.pending is not None:
            self.pending["then"] = _went_on(engine, event, started, self.pending)
            self.pending = None
        nlu = engine.ctx.last_nlu
        if not isinstance(event, Speech) or nlu is None or nlu is watch.nlu:
            return  # nothing parsed this turn
        if "agent" in started:
            return  # asking for a person is understood; the turn before it is the interesting one
        step = engine.ask.step if engine.ask else None
        if step in _CLARIFY_STEPS:
            kind = "clarified"
        elif engine.menu_path != watch.menu_path and nlu.intent in engine.cat.family_by_intent:
            kind = "family"
        elif engine.failures > watch.failures:
            kind = "not_understood"
        else:
            kind = None
        turn = {"text": _masked(nlu), "lang": engine.ctx.lang, "step": step, "kind": kind,
                "ranking": [[i, round(c, 3)] for i, c in nlu.ranking[:3]] or [[nlu.intent, round(nlu.confidence, 3)]],
                "offered": [o.service.id for o in (engine.current.options.values() if kind == "clarified" else ())
                            if hasattr(o, "service")],
                "then": None, "at": datetime.now().isoformat(timespec="seconds")}
        self.last_parsed = turn
        if kind is not None and len(self.turns) < MAX_TURNS:
            self.turns.append(turn)
            self.pending = turn

    def kept(self, outcome: str | None) -> list[dict[str, Any]]:
        """The turns to store when the call ends with ``outcome`` (handed out once)."""
        turns, last = self.turns, self.last_parsed
        self.turns, self.last_parsed, self.pending = [], None, None
        if outcome == "transferred" and last is not None and last not in turns:
            turns.append({**last, "kind": "agent"})
        for turn in turns:
            turn.pop("offered", None)
        return turns


def _went_on(engine: Steering, event: Event, started: set[str], turn: dict[str, Any]) -> str:
    if isinstance(event, HangUp):
        return "hung_up"
    if isinstance(event, NoInput):
        return "silence"
    if "agent" in started or engine.ctx.record.outcome == "transferred":
        return "agent"
    if turn["kind"] == "clarified" and started & set(turn["offered"]):
        return "yes"
    if turn["kind"] == "clarified" and isinstance(event, Speech) and engine.ctx.last_nlu is not None \
            and engine.ctx.last_nlu.intent == "deny":
        return "no"
    if turn["kind"] == "family" and started:
        return "chose"
    if isinstance(event, Keys):
        return "keys"
    return "rephrased"


def _masked(nlu: Any) -> str:
    text = redact(nlu.text, caller_input=True)
    for entity in nlu.entities:
        if entity.get("entity") == "payee" and isinstance(entity.get("value"), str) and entity["value"]:
            text = text.replace(entity["value"], "<payee>")
    return text


def save_inbox(ctx: CallContext, turns: list[dict[str, Any]]) -> None:
    """Store a finished call's turns in the bank database (if the inbox is on); never fails the call."""
    if not turns or ctx.settings.inbox_keep_days <= 0 or not hasattr(ctx.bank, "engine"):
        return
    try:
        from voicebot.nlu.inbox_store import save_turns

        save_turns(ctx.bank.engine, ctx.call_id, turns, ctx.settings.inbox_keep_days)
    except Exception:
        log.exception("call=%s cannot store the trainer's inbox turns", ctx.call_id)
