"""What happens on a call, as typed events: everything that watches a call subscribes to these.

A ``VoiceSession`` publishes them on its call's ``CallEvents``; transcripts, logs, metrics and
the channels' own displays subscribe instead of reaching into the recogniser, session or
engine. Handlers run on the call's own thread, in order, and must be quick; one that fails is
logged and the call goes on. Speech at the PIN step is never published: a ``CallerHeard``
there carries no text (``withheld``), so no subscriber can show or store it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from voicebot.dialog.actions import Action
from voicebot.dialog.context import CallRecord

log = logging.getLogger("voicebot.voice")

SECRET_STEPS = frozenset({"pin"})  # what a caller says here is neither shown, logged nor stored


@dataclass(frozen=True)
class CallerSpeaking:
    """The caller started to speak (a barge-in, when the bot was talking)."""

    call_id: str
    step: str | None


@dataclass(frozen=True)
class CallerHeard:
    """Words recognised: ``final`` once the turn has ended, else a partial result."""

    call_id: str
    step: str | None
    text: str
    final: bool
    confidence: float | None = None
    withheld: bool = False  # said at a secret step: the words are not in the event


@dataclass(frozen=True)
class CallerKey:
    """One DTMF key (at a secret step the key itself is still given: subscribers mask it)."""

    call_id: str
    step: str | None
    key: str

    @property
    def secret(self) -> bool:
        return self.step in SECRET_STEPS


@dataclass(frozen=True)
class BotActed:
    """The dialog did something: said a sentence, waits for an input, ran a service, hands over or hangs up."""

    call_id: str
    step: str | None
    action: Action


@dataclass(frozen=True)
class ReplyTimed:
    """From the end of a caller's turn to the reply's first audio leaving us (as a channel measured it)."""

    call_id: str
    reply_ms: float
    behind_ms: int = 0  # how far the call's thread was behind real time when it found the turn's end


@dataclass(frozen=True)
class CardData:
    """The call entered (``collecting``) or left steps that collect card data: a card or account
    number, a PIN, a CVV, or the read-back of one (``dialog.card_data``). Recordings pause here."""

    call_id: str
    step: str | None
    collecting: bool


@dataclass(frozen=True)
class CallEnded:
    call_id: str
    record: CallRecord


CallEvent = CallerSpeaking | CallerHeard | CallerKey | BotActed | ReplyTimed | CardData | CallEnded
Handler = Callable[[CallEvent], None]
# 20 ms of the call's audio as it happened: the caller's frame, the bot's (None while an agent
# talks), the agent's (None unless bridged). Taps run on the call's thread 50 times a second.
Frame = NDArray[np.int16]
AudioTap = Callable[[Frame, "Frame | None", "Frame | None"], None]


class CallEvents:
    """One call's event stream: ``subscribe`` handlers, ``publish`` events to each in turn."""

    def __init__(self, call_id: str, handlers: list[Handler] | tuple[Handler, ...] = ()) -> None:
        self.call_id = call_id
        self._handlers: list[Handler] = list(handlers)
        self._taps: list[AudioTap] = []

    def subscribe(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def tap(self, tap: AudioTap) -> None:
        """Hear the call's audio, frame by frame (a recording): kept apart from the events, which
        are few, so that a call with no tap pays nothing per frame."""
        self._taps.append(tap)

    @property
    def tapped(self) -> bool:
        return bool(self._taps)

    def audio(self, caller: Frame, bot: Frame | None, agent: Frame | None = None) -> None:
        for tap in self._taps:
            try:
                tap(caller, bot, agent)
            except Exception:
                log.exception("call=%s an audio tap failed: removed", self.call_id)
                self._taps.remove(tap)
                return

    def publish(self, event: CallEvent) -> None:
        for handler in self._handlers:
            try:
                handler(event)
            except Exception:  # a watcher's bug must not end the caller's call
                log.exception("call=%s a subscriber failed on %s", self.call_id, type(event).__name__)
