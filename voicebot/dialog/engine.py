"""The dialog engine: one instance per call, channel-independent and deterministic.

It consumes events (speech text, keys, no-input, hang-up) and returns actions (say, collect,
service, transfer, hangup). Catalogue menus are walked here; each service runs as a flow
generator (``voicebot.dialog.flows``). Rules every step obeys live here too: ``*`` repeats,
``#`` goes back, PINs are keypad-only, two failures fall back to keys, a third goes to an agent.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from voicebot.bank.bank import Bank
from voicebot.catalogue import BACK_KEY, CORPORATE, PERSONAL, REPEAT_KEY, Catalogue, Service
from voicebot.catalogue import catalogue as default_catalogue
from voicebot.dialog.actions import Action, Collect, Say
from voicebot.dialog.ask import Ask
from voicebot.dialog.callback import agents_unavailable
from voicebot.dialog.context import CallContext, CallRecord, DialogSettings
from voicebot.dialog.events import Event, HangUp, Keys, NoInput, Speech
from voicebot.dialog.flows import Flow, serve
from voicebot.dialog.inputs import BAD_ENTRY, from_keys, from_speech
from voicebot.dialog.leaving import take_leave
from voicebot.dialog.menus import anything_else_ask, menu_ask, presented, slots_from
from voicebot.dialog.repair import CLEAR, NOT_THAT, Offered, Repair
from voicebot.dialog.spoken_number import LONG_NUMBER_STEPS, NumberEntry, is_number_turn
from voicebot.dialog.turn_records import SECRET_STEPS as _SECRET_STEPS
from voicebot.dialog.turn_records import TurnRecords
from voicebot.dialog.understanding import Understanding
from voicebot.nlu.parser import NluResult, Parser

log = logging.getLogger("voicebot.dialog")


class DialogEngine:
    """Serves one call. ``start()`` greets; ``handle(event)`` answers each caller event."""

    def __init__(self, bank: Bank, nlu: Parser | None = None, *, lang: str = "en-US", region: str = "010",
                 call_id: str | None = None, caller: str | None = None, settings: DialogSettings | None = None,
                 cat: Catalogue | None = None) -> None:
        self.cat = cat or default_catalogue()
        self.ctx = CallContext(bank, nlu, self.cat, settings or DialogSettings(), lang=lang, region=region,
                               call_id=call_id, caller=caller)
        self.mode = "menu"  # menu | flow | after
        self.menu_path = ""
        self.flow: Flow | None = None
        self.service: Service | None = None
        self.ask: Ask | None = None
        self.failures, self.keypad_only = 0, False
        self.last_turn: list[Action] = []
        self.failed = self.callback_offered = False
        self.understanding = Understanding(self.ctx)  # the NLU, started early at the caller's pause
        self.numbers = NumberEntry(self)  # card and account numbers said aloud
        self.repair = Repair(self)  # unsure requests, families, follow-ups, corrections
        self.records = TurnRecords(self)  # the log, the agent's transcript, the trainer's inbox

    # -- public --------------------------------------------------------------------------
    @property
    def current(self) -> Ask:
        """The step the caller is answering: there is one from the greeting until the call ends."""
        if self.ask is None:
            raise RuntimeError(f"call={self.ctx.call_id}: no step to answer")
        return self.ask

    @property
    def ended(self) -> bool:
        return self.ctx.ended

    @property
    def expecting(self) -> str | None:
        """What the bot waits for now (channels use it, e.g. to gather digits until '#')."""
        return None if self.ended or self.ask is None else self.ask.expect

    @property
    def gathering(self) -> bool:
        """A spoken number has begun and waits for more (the channel gives a shorter pause to end it)."""
        return self.numbers.gathering

    @property
    def record(self) -> CallRecord:
        return self.ctx.record

    def start(self) -> list[Action]:
        log.info("call=%s start lang=%s region=%s", self.ctx.call_id, self.ctx.lang, self.ctx.region)
        self.ctx.say("greeting")
        self._show_menu("")
        return self.finish()

    def anticipate(self, text: str, executor: Executor) -> None:
        """The caller paused after ``text``: start understanding it now, on ``executor``; only
        where the turn's end would parse it (never at the PIN step, nor on the keypad)."""
        if text and not self.ended and self.ask is not None and self.ask.expect not in _SECRET_STEPS \
                and not self.keypad_only:
            self.understanding.anticipate(text, executor)

    def handle(self, event: Event) -> list[Action]:
        if self.ended:
            return []
        watch = self.records.before(event)
        try:
            self._dispatch(event)
        except Exception:  # a bug or a database outage must not drop the caller
            log.exception("call=%s error while handling %s", self.ctx.call_id, type(event).__name__)
            self._system_error()
        self.records.after(event, watch)
        return self.finish()

    def agents_unavailable(self) -> list[Action]:
        """No agent answered the hand-over: apologise, offer a call-back, then say goodbye."""
        return agents_unavailable(self)

    def close(self) -> CallRecord:
        """Finish the call record (outcome, end time) once the call is over."""
        from datetime import datetime

        self.understanding.drop()
        rec = self.ctx.record
        rec.ended_at = rec.ended_at or datetime.now().astimezone()
        rec.language = self.ctx.lang
        if self.failed:
            rec.outcome = "failed"
        elif rec.outcome is None:
            rec.outcome = "self_service" if rec.services else "abandoned"
        self.records.closed(rec)
        return rec

    # -- events --------------------------------------------------------------------------
    def _dispatch(self, event: Event) -> None:
        if isinstance(event, HangUp):
            self._cancel_flow(report=False)
            self.ctx.ended = True
        elif isinstance(event, NoInput):
            self.numbers.done() if self.gathering else self.fail("no_input")
        elif isinstance(event, Keys):
            self._on_keys(re.sub(r"[^0-9*#]", "", event.digits))
        elif isinstance(event, Speech):
            # an unsure digit group is still gathered: the whole number is read back anyway
            number_turn = self.current.expect in LONG_NUMBER_STEPS and is_number_turn(event.text)
            if event.confidence < self.ctx.settings.min_asr_confidence and not number_turn:
                if not self.numbers.hear_grammar(event):
                    self.fail("no_match")  # unsure recognition: ask again rather than act on a guess
            else:
                self._on_speech(event)

    def _on_keys(self, digits: str) -> None:
        ask = self.current
        if not digits:
            self.fail("no_match")
            return
        if self.gathering:  # keys (or '#' alone) finish a number the caller began to say
            self.numbers.press(digits)
            return
        if digits[0] == REPEAT_KEY and (len(digits) == 1 or ask.expect in ("menu", "confirm")):
            self._repeat()
        elif digits[0] == BACK_KEY and BACK_KEY not in ask.options \
                and (len(digits) == 1 or ask.expect in ("menu", "confirm")):  # (a survey's '#' skips)
            self._back()
        elif ask.expect in ("menu", "confirm"):
            key = digits[0]
            if key not in ask.options:
                self.fail("no_match", self.ctx.t("invalid_key", key=key))
                return
            self._accept(ask.options[key])
        else:
            value = from_keys(ask, digits.rstrip(BACK_KEY), self.ctx.bank.clock().date())
            if value is None:
                self.fail("no_match", self.ctx.t(BAD_ENTRY.get(ask.expect, "no_match")))
            else:
                self.validated(value)
            return
        rest = digits[1:]
        if rest and not self.ended:  # keys typed ahead feed the next prompt
            self._on_keys(rest)

    def _on_speech(self, event: Speech) -> None:
        ask, text, words = self.current, event.text.strip(), event.words or ((event.text, event.confidence),)
        if not text:
            if not self.gathering:  # a cough between digit groups loses nothing
                self.fail("no_match")
            return
        if ask.expect in _SECRET_STEPS:  # never parsed, never recorded
            self.fail("no_match", self.ctx.t("pin_by_keypad"))
            return
        if self.keypad_only:
            self.fail("no_match", self.ctx.t("nlu_down"))
            return
        if self.numbers.hear(text, words):
            return
        nlu = self._understand(text)
        if nlu is None:
            return
        correction = self.repair.correction(nlu, text)
        value = correction or from_speech(ask, text, nlu, self.ctx.bank.clock().date(),
                                          self.ctx.settings.min_confidence_money)
        if correction is not None:
            self._accept(correction)
        elif value is not None:
            self.validated(value)
        elif not self._global_intent(nlu, text) and not self.numbers.hear_grammar(event):
            self.repair.not_understood(nlu)

    def _understand(self, text: str) -> NluResult | None:
        result = self.understanding.parse(text)
        if result is None:
            self._nlu_down()
        return result

    def _nlu_down(self) -> None:
        self.keypad_only = True
        self.ctx.say("nlu_down")
        self.present(self.current, keypad=True)

    def _global_intent(self, nlu: NluResult, text: str) -> bool:
        """Conversation intents and service requests valid at any step; False if none applies."""
        sure = nlu.confidence >= self.ctx.settings.min_confidence
        simple: dict[str, Callable[[], None]] = {
            "repeat": self._repeat, "back": self._back, "main_menu": self._main_menu,
            "goodbye": lambda: take_leave(self, nlu.confidence, self._goodbye, self._after_service,
                                          lambda: self.repair.follow_up(text)),
            "switch_language": self._switch_language, "greet": lambda: self.present(self.current),
            "wait": lambda: self.ctx.say_and_wait("take_your_time", self.current.expect)}
        if sure and nlu.intent in simple:
            if nlu.confidence >= CLEAR or not self.repair.answered_in_context(text):  # "the one at home"
                simple[nlu.intent]()
            return True
        if sure and self.mode == "after" and nlu.intent in ("affirm", "deny"):
            if nlu.intent == "affirm":
                self.ctx.say("what_else")
                self._main_menu()
            else:
                self._goodbye()
            return True
        return self.repair.understood(nlu, text)

    # -- steps ---------------------------------------------------------------------------
    def validated(self, value: Any) -> None:
        error = self.current.validate(value) if self.current.validate else None
        if error:
            self.fail("no_match", error)
        else:
            self._accept(value)

    def _accept(self, value: Any) -> None:
        if self.numbers.reading_back:
            self.numbers.answered(bool(value))
        elif self.mode == "flow":
            self.advance(value)
        elif self.mode == "after":
            after: dict[str, Callable[[], None]] = {
                "main_menu": self._main_menu, "goodbye": self._goodbye,
                "agent": lambda: self.start_service(self.cat.by_id["agent"])}
            after[value]()
        elif value == "switch_language":
            self._switch_language()
        elif isinstance(value, Offered):
            self.start_service(value.service, value.nlu, value.text)
        elif value == NOT_THAT:
            self.repair.not_that()
        elif value.group is not None:
            self._show_menu(value.path)
        else:
            self.start_service(value.service)

    def fail(self, kind: str, message: str | None = None, brief: str | None = None) -> None:
        """Count a failure; the third goes to an agent, the second brings the keypad-only prompt.
        ``brief`` replaces the whole prompt after a first failure (examples, not the menu again)."""
        self.failures += 1
        if self.ask is not None and self.ask.optional and self.mode == "flow":  # no answer is an answer
            self.advance(None)
            return
        if self.failures >= self.ctx.settings.max_failures:
            step = self.ask.step if self.ask else "unknown"
            self.ctx.say("too_many_failures")
            self._cancel_flow()
            self.ctx.transfer(f"{kind}:{step}")
            return
        if brief and self.failures < 2 and not self.keypad_only:
            self.numbers.drop()
            self.ctx.say_text(brief)
            self.ctx.out.append(Collect(self.current.expect))
            return
        self.ctx.say_text(message or self.ctx.t(kind))
        self.present(self.current, keypad=self.failures >= 2)

    def present(self, ask: Ask, keypad: bool = False) -> None:
        self.numbers.drop()  # a prompt said again starts the number afresh
        self.ctx.say_text(presented(ask, self.ctx.lang, keypad or self.keypad_only))
        self.ctx.out.append(Collect(ask.expect))

    def _repeat(self) -> None:
        replay = [a for a in self.last_turn if isinstance(a, Say | Collect)]
        if replay:
            self.ctx.out.extend(replay)
        else:
            self.present(self.current)

    # -- menus ---------------------------------------------------------------------------
    def _show_menu(self, path: str) -> None:
        self.mode, self.menu_path, self.failures = "menu", path, 0
        self.ask = menu_ask(self.cat, self.ctx.lang, path)
        self.present(self.ask)

    def _back(self) -> None:
        if self.mode == "flow":
            self._cancel_flow()
            self._show_menu(self.menu_path)
        elif self.mode == "menu" and self.menu_path:
            self._show_menu(self.menu_path[:-1])
        else:
            self._show_menu(self.menu_path)

    def _main_menu(self) -> None:
        self._cancel_flow()
        customer = self.ctx.customer
        home = "" if customer is None else (CORPORATE if customer.kind == "corporate" else PERSONAL)
        self._show_menu(home)

    def _switch_language(self) -> None:
        self._cancel_flow()
        self.ctx.lang = "zh-CN" if self.ctx.lang == "en-US" else "en-US"
        self.ctx.say("language_switched")
        self._show_menu(self.menu_path)

    def _goodbye(self) -> None:
        self._cancel_flow()
        self.ctx.say("goodbye")
        self.ctx.hangup()

    # -- services ------------------------------------------------------------------------
    def start_service(self, service: Service, nlu: NluResult | None = None, text: str = "") -> None:
        self._cancel_flow()
        self.ctx.slots = slots_from(nlu, text) if nlu else {}
        self.repair.remember(service, text)
        corporate = self.menu_path.startswith(CORPORATE) or (
            self.ctx.customer is not None and self.ctx.customer.kind == "corporate")
        if corporate and service.auth and not any(p.startswith(CORPORATE) for p in service.paths):
            self.ctx.say("not_for_segment", label=service.label[self.ctx.lang])
            self._after_service()
            return
        log.info("call=%s service=%s start", self.ctx.call_id, service.id)
        self.mode, self.service = "flow", service
        self.flow = serve(self.ctx, service, corporate)
        self.advance(None, first=True)

    def advance(self, value: Any, first: bool = False) -> None:
        if self.flow is None:
            raise RuntimeError(f"call={self.ctx.call_id}: no service flow to advance")
        try:
            ask = next(self.flow) if first else self.flow.send(value)
        except StopIteration:
            self.flow, self.service = None, None
            self._after_service()
            return
        self.ask, self.failures = ask, 0
        self.present(ask)

    def _after_service(self) -> None:
        self.flow, self.service = None, None
        if self.ended:
            return
        if self.ctx.next_menu is not None:
            path, self.ctx.next_menu = self.ctx.next_menu, None
            self._show_menu(path)
            return
        if self.ctx.next_service is not None:  # a correction named another service of the family
            (service, nlu, text), self.ctx.next_service = self.ctx.next_service, None
            self.start_service(service, nlu, text)
            return
        self.mode, self.failures = "after", 0
        self.ask = anything_else_ask(self.ctx.lang)
        self.present(self.ask)

    def _cancel_flow(self, report: bool = True) -> None:
        if self.flow is not None:
            self.flow.close()
            if report and self.service is not None:
                self.ctx.done(self.service.id, "cancelled")
        self.flow, self.service = None, None

    def _system_error(self) -> None:
        self.failed = True
        try:
            self._cancel_flow(report=False)
        except Exception:
            log.exception("call=%s error while cancelling", self.ctx.call_id)
        self.flow = None
        self.ctx.say("system_error")
        self.ctx.transfer("system_error")

    def finish(self) -> list[Action]:
        out = self.ctx.flush()
        self.records.said(out)
        spoken: list[Action] = [a for a in out if isinstance(a, Say | Collect)]
        if spoken and any(isinstance(a, Collect) for a in spoken):
            self.last_turn = spoken
        return out
