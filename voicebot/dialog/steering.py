"""What the dialog engine's policies may see and do: the engine as its helpers use it.

The repair rules, the spoken-number entry, the call-back offer, the turn records and the trainer
inbox are given the engine; they type it as ``Steering`` rather than importing the engine, which
imports them. ``DialogEngine`` satisfies it.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Protocol

from voicebot.catalogue import Catalogue, Service
from voicebot.dialog.actions import Action
from voicebot.dialog.ask import Ask
from voicebot.dialog.context import CallContext
from voicebot.nlu.parser import NluResult


class NumberState(Protocol):
    @property
    def reading_back(self) -> bool: ...


class Steering(Protocol):
    cat: Catalogue
    ctx: CallContext
    mode: str  # menu | flow | after
    menu_path: str
    flow: Generator[Ask, Any, Any] | None
    service: Service | None
    ask: Ask | None
    failures: int
    keypad_only: bool
    callback_offered: bool

    @property
    def numbers(self) -> NumberState: ...

    @property
    def ended(self) -> bool: ...

    @property
    def current(self) -> Ask:
        """The step the caller is answering."""

    def present(self, ask: Ask, keypad: bool = False) -> None:
        """Say a step's prompt and wait at it."""

    def fail(self, kind: str, message: str | None = None, brief: str | None = None) -> None:
        """Count a failed turn (the second brings the keypad, the third an agent)."""

    def validated(self, value: Any) -> None:
        """Give the step a value: its check first, then the flow."""

    def start_service(self, service: Service, nlu: NluResult | None = None, text: str = "") -> None:
        """Start serving ``service`` (its flow, with the request's slots)."""

    def advance(self, value: Any, first: bool = False) -> None:
        """Send the flow the step's answer (or start it) and present what it asks next."""

    def finish(self) -> list[Action]:
        """The actions of this turn, recorded."""
