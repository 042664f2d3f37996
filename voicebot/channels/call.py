"""A call put together in one place, for every channel: SIP, the browser phone, the microphone, benches.

A channel makes one ``CallKit`` (what its calls share: bank, NLU, speech models, voice, the
``[voice]`` settings as that channel reads them) and asks it for each call's ``VoiceSession``.
The kit builds the recogniser with the configured endpointing, the dialog engine and the call's
event stream (with a greppable log of it), so a value changed in ``[voice]`` reaches every
channel the same way.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.channels.call_events import BotActed, CallEnded, CallerHeard, CallEvent, CallEvents, Handler, ReplyTimed
from voicebot.channels.voice import VoiceSession
from voicebot.channels.voice_settings import VoiceSettings
from voicebot.dialog.actions import Say, ServiceResult
from voicebot.dialog.context import CallContext, DialogSettings
from voicebot.dialog.engine import DialogEngine
from voicebot.redact import redact
from voicebot.speech import backends
from voicebot.speech.asr import VadSettings

log = logging.getLogger("voicebot.voice")

CallStart = Callable[[CallEvents, CallContext], None]  # subscribes what is made per call (a recording)


class SpeechModels:
    """Each language's recognition model, loaded once; a call's recogniser on it, or None (keypad only)."""

    def __init__(self, models_root: Path, settings: VoiceSettings) -> None:
        self.root, self.settings = models_root, settings
        self._loaded: dict[str, backends.SpeechBackend | None] = {}

    def backend(self, lang: str) -> backends.SpeechBackend | None:
        if lang not in self._loaded:
            try:
                self._loaded[lang] = backends.load(self.root, lang, self.settings.engine(lang))
            except backends.ModelUnavailable as exc:
                log.warning("no speech model for %s, its calls run keypad-only: %s", lang, exc)
                self._loaded[lang] = None
        return self._loaded[lang]

    def recognizer(self, lang: str, rate: int) -> Any:
        """A fresh streaming recogniser for one call, ending turns after ``[voice] endpoint_ms`` of silence."""
        backend = self.backend(lang)
        if backend is None:
            return None
        return backend.recognizer(rate, VadSettings(frame_ms=self.settings.frame_ms,
                                                    endpoint_ms=self.settings.endpoint_ms))


@dataclass
class CallKit:
    """What every call of one channel shares, and how each is built (``call``)."""

    channel: str  # sip | browser | mic | bench: written into the call's record
    rate: int  # the channel's audio rate, in and out
    bank: Any
    parser: Callable[[str], Any]  # lang -> the NLU parser (None: keypad only)
    models: SpeechModels | None  # None: no speech recognition on this channel
    voice: Callable[[str, str], np.ndarray]  # (text, lang) -> audio at ``rate``
    settings: VoiceSettings
    dialog: DialogSettings
    region: str
    parts: Callable[[str, str], list[str]] | None = None  # the pieces a sentence renders in (PromptCache.parts)
    renderer: Executor | None = None  # renders sentences off the call's thread
    understander: Executor | None = None  # starts the NLU at a caller's pause
    watchers: list[Handler] = field(default_factory=list)  # subscribed to every call's events (metrics, ...)
    # given each new call's events before its greeting, to subscribe what is made per call (a recording)
    starts: list[CallStart] = field(default_factory=list)

    def call(self, lang: str, *, region: str | None = None, caller: str | None = None, call_id: str | None = None,
             subscribers: Iterable[Handler] = ()) -> VoiceSession:
        """A new call's session; ``subscribers`` hear its events from the first greeting on."""
        engine = DialogEngine(self.bank, self.parser(lang), lang=lang, region=region or self.region,
                              call_id=call_id, caller=caller, settings=self.dialog)
        engine.record.channel = self.channel
        events = CallEvents(engine.ctx.call_id, [log_event, *self.watchers, *subscribers])
        for start in self.starts:
            start(events, engine.ctx)
        recognizer = self.models.recognizer(lang, self.rate) if self.models is not None else None
        return VoiceSession(engine, recognizer, self.voice, self.rate, settings=self.settings, events=events,
                            renderer=self.renderer, understander=self.understander, parts=self.parts)


def log_event(event: CallEvent) -> None:
    """The log's line for an event: what kind, never what the bot said (balances) nor what the caller did."""
    if isinstance(event, BotActed):
        action = event.action
        if isinstance(action, Say):
            line = f"say chars={len(action.text)}"
        elif isinstance(action, ServiceResult):
            line = f"service id={action.id} status={action.status}"
        else:
            line = redact(json.dumps(action.to_json(), ensure_ascii=False))
        log.info("call=%s action=%s", event.call_id, line)
    elif isinstance(event, CallerHeard) and event.final:
        log.info("call=%s heard step=%s chars=%d%s", event.call_id, event.step, len(event.text),
                 " withheld" if event.withheld else "")
    elif isinstance(event, ReplyTimed):
        log.info("call=%s turn reply_ms=%.0f behind_ms=%d", event.call_id, event.reply_ms, event.behind_ms)
    elif isinstance(event, CallEnded):
        log.info("call=%s ended outcome=%s", event.call_id, event.record.outcome)
