"""The browser phone's call: 16 kHz PCM from the page's microphone in, the bot's voice and a live
transcript out, through the same ``VoiceSession`` and dialog as the microphone and SIP channels.

The page's keypad is the call's DTMF. What the page shows is what a caller may see on their own
screen: their words and keys (card numbers masked, a PIN as dots, spoken words at the PIN step
withheld), the bot's sentences, and the services run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from voicebot.channels.call import CallKit
from voicebot.channels.call_events import BotActed, CallerHeard, CallerKey, CallEvent
from voicebot.dialog.actions import Action, Collect, Hangup, Say, ServiceResult, Transfer
from voicebot.dialog.context import CallRecord, new_call_id
from voicebot.live_calls import CallState, state_of
from voicebot.redact import redact

log = logging.getLogger("voicebot.console")

RATE = 16000  # what the page's AudioWorklet sends and plays
FRAME = RATE // 50  # 20 ms
KEYS = set("0123456789*#")


@dataclass
class PhoneParts:
    """What every browser call shares: how calls are built (the console's ``CallKit``) and the CDR sink."""

    kit: CallKit
    cdr: Callable[[CallRecord], None]
    active: set[BrowserCall] = field(default_factory=set)  # calls in progress (for the wallboard)
    recordings: Any = None  # the line's RecordingStore (quality review plays from it), or None


class BrowserCall:
    """One call from one page; not thread-safe: the server steps it on one thread at a time."""

    def __init__(self, parts: PhoneParts, lang: str, operator: str) -> None:
        self.parts, self.lang = parts, lang
        self.events: list[dict[str, Any]] = []
        self.session = parts.kit.call(lang, call_id=f"browser-{new_call_id(16)}",
                                      caller=f"console:{operator}", subscribers=[self._shown])
        self._left = np.zeros(0, np.int16)
        self.closed = False
        parts.active.add(self)
        log.info("call=%s browser call from console operator %s lang=%s", self.call_id, operator, lang)

    @property
    def call_id(self) -> str:
        return self.session.call_id

    def live_state(self) -> CallState:
        """What the wallboard shows of this call."""
        return state_of(self.session.ctx, self.session.dialog_step, "browser", self.call_id)

    # -- in ---------------------------------------------------------------------------------------
    def audio(self, pcm: bytes) -> bytes:
        """Caller audio (16-bit little-endian, 16 kHz); returns the bot's audio for the same time."""
        samples = np.concatenate([self._left, np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.int16)])
        whole = len(samples) // FRAME * FRAME
        self._left = samples[whole:]
        out = [self.session.step(samples[i:i + FRAME]) for i in range(0, whole, FRAME)]
        bot = np.concatenate(out) if out else np.zeros(0, np.int16)
        return bot.astype("<i2").tobytes() if np.any(bot) else b""

    def key(self, digit: str) -> None:
        if digit not in KEYS or self.session.finished:
            return
        self.session.key(digit)

    def hang_up(self) -> None:
        self.session.hang_up()

    def close(self) -> CallRecord:
        """Finish the call once (hang-up, closed page): the CDR line is written here."""
        if self.closed:
            return self.session.ctx.record
        self.closed = True
        self.parts.active.discard(self)
        record = self.session.close()
        self.parts.cdr(record)
        log.info("call=%s browser call ended outcome=%s", self.call_id, record.outcome)
        return record

    def take_events(self) -> list[dict[str, Any]]:
        out, self.events = self.events, []
        if self.session.finished and not self.closed:
            self.close()
            out.append({"type": "ended"})
        return out

    # -- out --------------------------------------------------------------------------------------
    def _shown(self, event: CallEvent) -> None:
        """The page's transcript: what the caller may see of their own call."""
        if isinstance(event, CallerKey):
            self.events.append({"type": "key", "shown": "•" if event.secret else redact(event.key, caller_input=True),
                                "secret": event.secret})
        elif isinstance(event, CallerHeard):
            text = "(withheld: please use the keypad)" if event.withheld else redact(event.text, caller_input=True)
            self.events.append({"type": "heard", "text": text, "final": event.final})
        elif isinstance(event, BotActed):
            self._action(event.action)

    def _action(self, action: Action) -> None:
        if isinstance(action, Say):
            self.events.append({"type": "say", "text": action.text})
        elif isinstance(action, Collect):
            self.events.append({"type": "collect", "expect": action.expect})
        elif isinstance(action, ServiceResult):
            self.events.append({"type": "service", "id": action.id, "status": action.status})
        elif isinstance(action, Transfer):
            self.events.append({"type": "transfer", "reason": action.reason})
        elif isinstance(action, Hangup):
            self.events.append({"type": "hangup"})
