"""One call's dialog over audio, 20 ms at a time: caller frames and keys in, bot frames out.

Shared by the microphone and SIP channels, which only move frames and key presses. The
clock is the frame count, so behaviour (barge-in, no-input timeouts, digit gathering) is
the same in tests as on a line.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future

import numpy as np

from voicebot.channels.call_events import (
    SECRET_STEPS,
    BotActed,
    CallEnded,
    CallerHeard,
    CallerKey,
    CallerSpeaking,
    CallEvents,
    CardData,
    ReplyTimed,
)
from voicebot.channels.voice_settings import VoiceSettings
from voicebot.dialog import queue, survey
from voicebot.dialog.actions import Action, Collect, Say, Transfer
from voicebot.dialog.card_data import collects_card_data
from voicebot.dialog.context import CallContext, CallRecord
from voicebot.dialog.engine import DialogEngine
from voicebot.dialog.events import Event, HangUp, Keys, NoInput, Speech
from voicebot.dialog.queue import in_queue
from voicebot.speech.asr import Final, Partial, Pause, SpeechStarted, StreamingRecognizer
from voicebot.speech.grammars import commands_for, grammar_for, settles_at_pause
from voicebot.speech.hold_music import hold_music

log = logging.getLogger("voicebot.voice")

SINGLE_KEY_STEPS = ("menu", "confirm")


class VoiceSession:
    """Drives a ``DialogEngine`` from audio; ``step(frame)`` returns the bot's next frame.

    What happens is published on ``events`` (``channels.call_events``); ``channels.call`` builds
    sessions the same way for every channel.
    """

    def __init__(self, engine: DialogEngine, recognizer: StreamingRecognizer | None,
                 voice: Callable[[str, str], np.ndarray], sample_rate: int,
                 settings: VoiceSettings | None = None, events: CallEvents | None = None,
                 renderer: Executor | None = None, understander: Executor | None = None,
                 parts: Callable[[str, str], list[str]] | None = None) -> None:
        self.engine = engine
        self.recognizer = recognizer  # None: no speech model for this language, keys only
        self.voice = voice
        self.parts = parts or (lambda text, lang: [text])  # the pieces a sentence renders in (PromptCache.parts)
        self.rate = sample_rate
        self.settings = settings or VoiceSettings()
        self.events = events or CallEvents(engine.ctx.call_id)
        self.frame_len = sample_rate * self.settings.frame_ms // 1000
        self._out: deque[np.ndarray] = deque()
        # Sentences waiting for audio, in order. With an executor they render off the media loop
        # and play as soon as they are ready; cached prompts are ready at once.
        self._pending: deque[Future | np.ndarray] = deque()
        self._renderer = renderer
        self._understander = understander  # with one, the NLU starts on a caller's words at their pause
        self._silence = np.zeros(self.frame_len, dtype=np.int16)
        self._digits = ""
        self._idle_ms = 0
        self._digit_idle_ms = 0
        self.transfer: Transfer | None = None
        self.turns_heard = 0  # caller turns the recogniser has finished (channels time replies from them)
        self.card_data = False  # the step collects card data (published as ``CardData`` when it changes)
        self.queued = False  # waiting for an agent: hold music between the bot's sentences, keys only
        self._music_at = 0
        self._apply(engine.start())

    @property
    def ctx(self) -> CallContext:
        """The dialog's state of this call (language, region, customer, its record): for reading."""
        return self.engine.ctx

    @property
    def dialog_step(self) -> str | None:
        """The dialog step the call is at (None once it is over): what a wallboard shows."""
        ask = self.engine.ask
        return None if self.engine.ended or ask is None else ask.step

    @property
    def call_id(self) -> str:
        return self.engine.ctx.call_id

    @property
    def speaking(self) -> bool:
        return bool(self._out or self._pending)

    @property
    def finished(self) -> bool:
        """The dialog has ended (hang-up or hand-over) and its last words have been played."""
        return self.engine.ended and not self.speaking

    def step(self, frame: np.ndarray) -> np.ndarray:
        """Consume one caller frame; return one bot frame (silence when the bot is quiet)."""
        out = self._step(frame)
        if self.events.tapped:
            self.events.audio(frame, out)
        return out

    def _step(self, frame: np.ndarray) -> np.ndarray:
        self._collect_rendered()
        if self.engine.ended:  # only the goodbye or hand-over message is left to play
            return self._out.popleft() if self._out else self._silence
        if self.queued and in_queue(self.engine):  # on hold: no listening, no timeouts
            return self._out.popleft() if self._out else self._music()
        ms = self.settings.frame_ms
        if self.recognizer is not None:
            started = time.perf_counter()
            for event in self.recognizer.feed(frame):
                if isinstance(event, SpeechStarted):
                    self._publish_heard(event)
                    if self.settings.barge_in:
                        self._barge_in()
                elif isinstance(event, Partial):
                    self._publish_heard(event)
                elif isinstance(event, Pause) and self._understander is not None:
                    self.engine.anticipate(event.text, self._understander)
                elif isinstance(event, Final):
                    self.turns_heard += 1
                    self._publish_heard(event)
                    heard = time.perf_counter()
                    # noise recognised as nothing still counts as a (failed) turn
                    grammar = Speech(*event.grammar) if event.grammar else None
                    if not self.settings.barge_in:
                        self._barge_in()  # the prompt played on over the caller's words: their answer ends it
                    self._handle(Speech(event.text, event.confidence, event.words, grammar))
                    # where a reply's time goes after the endpoint: the final result, then the NLU and dialog
                    log.info("call=%s turn timing final_ms=%.0f understand_ms=%.0f free=%s", self.engine.ctx.call_id,
                             (heard - started) * 1000, (time.perf_counter() - heard) * 1000,
                             self.recognizer.last_fallback or "no")
        waiting = self.engine.expecting is not None and not self.speaking
        if self._digits:
            self._digit_idle_ms += ms
            if self._digit_idle_ms >= self.settings.interdigit_s * 1000:
                self._flush_digits()
        elif waiting and not (self.recognizer and self.recognizer.in_speech):
            self._idle_ms += ms
            # a number read in groups ends when the caller stops for longer than between groups
            limit = self.settings.entry_pause_s if self.engine.gathering else self.settings.no_input_s
            if self._idle_ms >= limit * 1000:
                self._handle(NoInput())
        return self._out.popleft() if self._out else self._silence

    def key(self, digit: str) -> None:
        """A DTMF key from the caller: stops the prompt; menus act at once, entries gather until '#'."""
        if self.engine.ended:
            return
        self.events.publish(CallerKey(self.call_id, self.engine.expecting, digit))
        self._barge_in()
        if not self._digits and (self.engine.expecting in SINGLE_KEY_STEPS or digit in "*#"):
            self._handle(Keys(digit))
            return
        self._digits += digit
        self._digit_idle_ms = 0
        if digit == "#":
            self._flush_digits()

    @property
    def ended(self) -> bool:
        """The dialog is over (its last words may still be playing)."""
        return self.engine.ended

    def agents_unavailable(self) -> None:
        """The channel could not complete a hand-over: the dialog's follow-up (a call-back offer) plays now."""
        self.transfer = None
        self._apply(self.engine.agents_unavailable())

    def enter_queue(self, place: int, wait_s: float) -> None:
        """Every agent was busy: the caller waits in the queue, told their ``place`` and the wait."""
        self.transfer = None
        actions = queue.queue_joined(self.engine, place, wait_s)
        self.queued = bool(actions)
        self._apply(actions)

    def queue_news(self, place: int, wait_s: float, offer_again: bool = False) -> None:
        if self.queued:
            self._apply(queue.queue_news(self.engine, place, wait_s, offer_again))

    def queue_answered(self) -> None:
        """An agent took the queued call: the music and any sentence still to play stop."""
        if self.queued:
            self.queued = False
            self._barge_in()
            queue.queue_answered(self.engine)

    def _music(self) -> np.ndarray:
        music = hold_music(self.rate)
        start = self._music_at % (len(music) - self.frame_len)
        self._music_at = start + self.frame_len
        return music[start:start + self.frame_len]

    def agent_finished(self) -> None:
        """The agent hung up: what the dialog does next (the caller's survey) plays now, if anything."""
        self.transfer = None
        self._apply(survey.agent_finished(self.engine))

    def reply_timed(self, reply_ms: float, behind_ms: int = 0) -> None:
        """The channel measured a reply's latency: kept in the call's record and published."""
        self.engine.record.reply_ms.append(round(reply_ms))
        self.events.publish(ReplyTimed(self.call_id, reply_ms, behind_ms))

    def mark_failed(self) -> None:
        """The channel failed under this call (a bug): its record says so."""
        self.engine.failed = True

    def end_entry(self) -> None:
        """The caller finished an entry without '#' (e.g. Enter on a keyboard)."""
        if self._digits:
            self._flush_digits()

    def hang_up(self) -> None:
        """The caller hung up: whatever was said or keyed last is dropped, the dialog closes."""
        self._barge_in()
        if not self.engine.ended:
            self.engine.handle(HangUp())

    def close(self) -> CallRecord:
        """The call is over: its recognisers go back to the pool; the dialog's record."""
        if self.recognizer is not None:
            self.recognizer.close()
        record = self.engine.close()
        self.events.publish(CallEnded(self.call_id, record))
        return record

    def _publish_heard(self, event: SpeechStarted | Partial | Final) -> None:
        step = self.engine.expecting
        if isinstance(event, SpeechStarted):
            self.events.publish(CallerSpeaking(self.call_id, step))
            return
        final = isinstance(event, Final)
        secret = step in SECRET_STEPS
        self.events.publish(CallerHeard(self.call_id, step, "" if secret else event.text, final,
                                        event.confidence if isinstance(event, Final) else None, withheld=secret))

    def _flush_digits(self) -> None:
        digits, self._digits = self._digits, ""
        self._handle(Keys(digits))

    def _barge_in(self) -> None:
        if self.speaking:
            log.info("call=%s barge-in: prompt stopped", self.engine.ctx.call_id)
        self._out.clear()
        for item in self._pending:
            if isinstance(item, Future):
                item.cancel()
        self._pending.clear()
        self._idle_ms = 0

    def _handle(self, event: Event) -> None:
        self._idle_ms = 0
        self._apply(self.engine.handle(event))

    def _apply(self, actions: list[Action]) -> None:
        engine = self.engine
        card_data = not engine.ended and collects_card_data(engine.ask, engine.numbers.read_back_of)
        if card_data != self.card_data:  # before the turn's words: a read-back says the number
            self.card_data = card_data
            self.events.publish(CardData(self.call_id, engine.expecting, card_data))
        for action in actions:
            self.events.publish(BotActed(self.call_id, self.engine.expecting, action))
            if isinstance(action, Say):
                lang = self.engine.ctx.lang
                for part in self.parts(action.text, lang):
                    self._pending.append(self._renderer.submit(self.voice, part, lang) if self._renderer
                                         else self.voice(part, lang))
            elif isinstance(action, Transfer):
                self.transfer = action
            elif isinstance(action, Collect) and self.recognizer is not None:
                lang = self.engine.ctx.lang
                self.recognizer.set_grammar(grammar_for(action.expect, lang), commands_for(action.expect, lang),
                                            settle_early=settles_at_pause(action.expect))
        self._collect_rendered()

    def _collect_rendered(self) -> None:
        """Move rendered sentences, in order, into the frame queue; stop at the first not yet ready."""
        while self._pending:
            item = self._pending[0]
            if isinstance(item, Future):
                if not item.done():
                    return
                try:
                    audio = item.result()
                except Exception:  # a failed render: skip the sentence rather than stall the call
                    log.exception("call=%s speech synthesis failed", self.engine.ctx.call_id)
                    audio = np.zeros(0, dtype=np.int16)
            else:
                audio = item
            self._pending.popleft()
            for start in range(0, len(audio), self.frame_len):
                chunk = audio[start:start + self.frame_len]
                if len(chunk) < self.frame_len:
                    chunk = np.pad(chunk, (0, self.frame_len - len(chunk)))
                self._out.append(chunk)
