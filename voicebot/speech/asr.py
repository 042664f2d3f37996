"""Offline recognition with Vosk: one streaming recogniser per call (models and pooled recognisers
in ``recognizers``).

A voice-activity detector sits in front of Vosk (see ``voice_activity``), so the silence of a
caller listening to a prompt costs next to nothing; a pre-roll keeps word onsets, and each
turn's level is measured on its first speech and normalised before Vosk hears it. A turn ends
after a configurable trailing silence, or at a maximum length, so memory stays bounded.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from voicebot.speech.audio import StreamUpsampler, dbfs
from voicebot.speech.recognizers import Grammar, RecognizerPool, VoskModel, VoskRecognizer, forget, pool_for
from voicebot.speech.voice_activity import LevelNormaliser, NoiseSuppressor, SpeechDetector
from voicebot.speech.vosk_results import (
    Heard,
    holds_phrase,
    mostly_unknown,
    partial_text,
    text_and_confidence,
    word_confidences,
)

log = logging.getLogger("voicebot.speech")


@dataclass(frozen=True)
class SpeechStarted:
    """The caller began to speak (barge-in: stop the prompt)."""


@dataclass(frozen=True)
class Partial:
    text: str


@dataclass(frozen=True)
class Pause:
    """The caller paused, and the turn settled on these words (they stand unless the caller goes on)."""
    text: str


@dataclass(frozen=True)
class Final:
    text: str
    confidence: float
    words: tuple[tuple[str, float], ...] = ()  # each word with the recogniser's confidence in it
    grammar: Heard | None = None  # the step grammar's own result, when free recognition answered instead


AsrEvent = SpeechStarted | Partial | Pause | Final


@dataclass
class VadSettings:
    frame_ms: int = 20
    detector: str = "webrtc"  # webrtc (WebRTC's VAD) | energy (the adaptive level gate it replaced)
    aggressiveness: int = 2  # WebRTC VAD mode 0-3: higher calls less noise speech
    start_frames: int = 3  # 60 ms of speech starts a turn
    min_dbfs: float = -45.0  # energy gate only: quieter than this is never speech
    above_floor_db: float = 12.0  # energy gate only: speech stands this far above the running noise floor
    normalise: bool = True  # bring each turn's speech to one level before recognition
    # WebRTC noise suppression (level 1-4; 0 off) on what the recogniser hears, for callers whose
    # level needs this much gain or more: it lifts the line's hiss with them (on callers at a
    # good level it cost digits on the real-voice bench, on quiet ones it gained many)
    noise_suppression: int = 2
    suppress_above_gain_db: float = 12.0
    measure_ms: int = 200  # speech heard before decoding starts, to measure its level (then caught up)
    # audio kept from before the detected start: the first word needs it, and Vosk hears a first word
    # better with some lead-in before it (human card numbers read at the card prompt, right the first
    # time: 71% with 300 ms, 77% with 500, 78% with 600, no better beyond)
    pre_roll_ms: int = 600
    endpoint_ms: int = 700  # trailing silence that ends a turn
    # Vosk hears this much of a pause (a word's quiet end, the model's right context); the rest of
    # the pause is held back, given to it only if the caller speaks again before the endpoint
    trailing_fed_ms: int = 200
    max_turn_s: float = 15.0  # a monologue is cut into turns of at most this
    partial_every_ms: int = 100  # partial results are costly to compute: ask for them this often


class StreamingRecognizer:
    """Feed 20 ms int16 frames; get SpeechStarted, Partial and Final events back."""

    MODEL_RATE = 16000  # the small Vosk models are 16 kHz and do not upsample by themselves

    def __init__(self, model: VoskModel, sample_rate: int, vad: VadSettings | None = None,
                 grammar: tuple[str, ...] | list[str] | None = None, pool: RecognizerPool | None = None,
                 commands: tuple[str, ...] | list[str] | None = None) -> None:
        self.rate = sample_rate
        self._up = StreamUpsampler(sample_rate, self.MODEL_RATE)
        self.vad = vad or VadSettings()
        self._model = model
        self.pool = pool or pool_for(model, self.MODEL_RATE)
        self._rec: VoskRecognizer | None = None  # the free recogniser, borrowed from the pool for one turn at a time
        self._biased: VoskRecognizer = None  # a cheap recogniser with the step's grammar, tried first
        self._biased_grammar: Grammar = None
        # beside a step grammar: how callers ask to go back, repeat, reach an agent
        self._commands: VoskRecognizer = None
        self._commands_grammar: Grammar = None
        self._commands_live = False  # the command recogniser decodes this turn (see set_grammar)
        # while the command recogniser follows a turn, the step's own one waits: how much of the
        # turn's audio it has heard (None: it follows the turn as it comes)
        self._biased_upto: int | None = None
        self._unknown_ticks = 0  # partial results in a row mostly out of the step's grammar
        self._free_live = False  # the free recogniser decodes this turn as it comes (see set_grammar)
        self.fallbacks = {"early": 0, "late": 0}  # turns the free recogniser decoded live / after the end
        self.last_fallback = ""  # of the last turn: "", "early" or "late" (logged with its timing)
        self.command_turns = 0  # turns the command grammar answered (no free recognition needed)
        self.command_decodes = 0  # turns the command recogniser decoded at all (most digit turns need not)
        # the turn's audio as given to Vosk: the others catch up on it, a resumed turn is decoded again
        self._spoken: list[bytes] = []
        self._settled: Heard | None = None  # the turn's result, decided at its pause
        self._grammar_heard: Heard | None = None  # the step grammar's result, when free recognition replaced it
        self._counts: tuple[dict[str, int], int] = ({}, 0)  # the counters before that decision
        self.settle_early = False
        self.set_grammar(grammar, commands)
        frame = sample_rate * self.vad.frame_ms // 1000
        self._pre_roll: deque[NDArray[Any]] = deque(maxlen=max(1, self.vad.pre_roll_ms // self.vad.frame_ms))
        self._held: list[NDArray[Any]] = []  # a pause's frames beyond ``trailing_fed_ms``, not yet decoded
        self._frame_len = frame
        self._detector = SpeechDetector(sample_rate, self.vad.detector, self.vad.aggressiveness, self.vad.min_dbfs,
                                        self.vad.above_floor_db)
        self._level = LevelNormaliser(self.vad.normalise)
        self._denoise: NoiseSuppressor | None = None  # once the caller proves quiet (see VadSettings)
        self._measuring: list[NDArray[Any]] | None = None  # a turn's first frames, before its gain is known
        self._loud_run = 0
        self._silent_ms = 0
        self._speech_ms = 0
        self.in_speech = False
        self._last_partial = ""
        self.fed_ms = 0  # audio actually given to Vosk (what gating saves shows here)

    def set_grammar(self, phrases: tuple[str, ...] | list[str] | None,
                    commands: tuple[str, ...] | list[str] | None = None, settle_early: bool = False) -> None:
        """Bias the next turns to these phrases (yes/no, digits); None for free speech only.

        ``settle_early``: the turn's result is decided at the caller's first pause (the audio
        after it is not decoded anyway) and given in a ``Pause`` event, so it is ready, and its
        words can be understood, before the endpoint; if the caller goes on, the turn is decoded
        again from its start. For steps whose answers are phrases: a card number read in groups
        would be decoded again at every group.

        ``commands`` (with a step grammar only) are the phrases a caller may say instead at
        such a step ("go back", "main menu", "an agent"): a second grammar recogniser hears
        them, and answers when the step's grammar is unsure and it is sure.

        Only the biased recogniser decodes while the caller speaks and the turn's audio is kept:
        each recogniser pays the acoustic model's pass again (most of a grammar recogniser's CPU),
        and most turns at a digit prompt are digits. As soon as the biased partial result is
        mostly out-of-grammar words, the command recogniser catches up on that audio and follows
        the rest of the turn in its place (the biased one catches up at the end only if no command
        was surely heard); if the command partial is mostly unknown words too (or the step has no
        commands), the free recogniser does the same, so answers are ready when the turn ends.
        When the biased result is empty or less than ``BIAS_MIN_CONFIDENCE`` sure without that
        sign, the others decode the kept audio at the end of the turn.
        """
        from voicebot.speech.grammars import in_vocabulary

        known = in_vocabulary(self._model, phrases) if phrases else []
        self.settle_early, self._settled = settle_early, None
        if self._spoken:  # changed mid-turn: the free recogniser keeps what was said so far
            self._start_free()
        if self._biased is not None:
            self.pool.release(self._biased_grammar, self._biased)
        self._biased_grammar = tuple(known) if known else None
        self._biased = self.pool.acquire(self._biased_grammar) if known else None
        self._biased_upto = None
        if self._commands is not None:
            self.pool.release(self._commands_grammar, self._commands)  # reset there: whatever it heard is dropped
            self._commands_live = False
        extra = in_vocabulary(self._model, commands) if commands and known else ()
        self._commands_grammar = tuple(extra) if extra else None
        self._commands = self.pool.acquire(self._commands_grammar) if extra else None

    def close(self) -> None:
        """The call is over: its recognisers go back to the pool (idempotent)."""
        if self._biased is not None:
            self.pool.release(self._biased_grammar, self._biased)
            self._biased = None
        if self._commands is not None:
            self.pool.release(self._commands_grammar, self._commands)
            self._commands = None
        if self._rec is not None:
            self.pool.release(None, self._rec)
            self._rec = None
        self._forget_turn()

    BIAS_MIN_CONFIDENCE = 0.7
    # partial results in a row (one per partial_every_ms) mostly out of the step's grammar before
    # the command recogniser starts: a digit string's partial is "[unk]" now and then for a moment
    COMMANDS_AFTER_TICKS = 4
    COMMAND_MIN_CONFIDENCE = 0.9

    def feed(self, frame: NDArray[Any]) -> list[AsrEvent]:
        events: list[AsrEvent] = []
        loud = self._detector.is_speech(frame, dbfs(frame), self.in_speech)
        ms = len(frame) * 1000 // self.rate
        if not self.in_speech:
            self._pre_roll.append(frame)
            self._loud_run = self._loud_run + 1 if loud else 0
            if self._loud_run >= self.vad.start_frames:
                self.in_speech, self._silent_ms, self._speech_ms = True, 0, 0
                events.append(SpeechStarted())
                self._measuring = list(self._pre_roll)  # decoded once the turn's level is known
                self._pre_roll.clear()
            return events
        self._speech_ms += ms
        self._silent_ms = 0 if loud else self._silent_ms + ms
        if self._silent_ms > self.vad.trailing_fed_ms:
            if not self._held and self.settle_early:  # the turn's words, for whoever can start on them now
                events.append(self._pause())
            self._held.append(frame)  # most likely the endpoint's silence: decoding it changes nothing
        else:
            if self._settled is not None:
                self._resume()
            for held in self._held:  # the caller spoke again: the pause is decoded as it was
                self._accept(held)
            self._held.clear()
            self._accept(frame)
        if self._silent_ms >= self.vad.endpoint_ms or self._speech_ms >= self.vad.max_turn_s * 1000:
            events.append(self._finish())
        elif self._speech_ms % self.vad.partial_every_ms < ms and not self._held:
            partial = partial_text(self._biased or self._free())
            shown = partial_text(self._commands) if self._biased_upto is not None else partial
            if shown and shown != self._last_partial:
                self._last_partial = shown
                events.append(Partial(shown))
            if partial and self._biased is not None and not self._free_live:
                self._unknown_ticks = self._unknown_ticks + 1 if mostly_unknown(partial) else 0
                if self._unknown_ticks and (self._commands is None or (
                        self._commands_live and mostly_unknown(partial_text(self._commands)))):
                    self._start_free()  # words no grammar of the step knows: free recognition follows
                elif self._unknown_ticks >= self.COMMANDS_AFTER_TICKS:
                    self._start_commands()  # not the step's words for a while: maybe a command
        return events

    def flush(self) -> Final | None:
        """End the current turn now (e.g. the caller hung up mid-sentence)."""
        return self._finish() if self.in_speech else None

    def _accept(self, frame: NDArray[Any]) -> None:
        if self._measuring is None:
            self._decode(frame)
            return
        self._measuring.append(frame)
        if len(self._measuring) * self.vad.frame_ms >= self.vad.pre_roll_ms + self.vad.measure_ms:
            self._measured()

    def _measured(self) -> None:
        """The turn's first speech sets its gain; the frames kept so far are decoded at once."""
        if self._measuring is not None:
            frames, self._measuring = self._measuring, None
            self._level.measure(frames)
            if self._denoise is None and self.vad.noise_suppression and \
                    self._level.gain_db >= self.vad.suppress_above_gain_db:
                self._denoise = NoiseSuppressor(self.vad.noise_suppression)
            for frame in frames:
                self._decode(frame)

    def _decode(self, frame: NDArray[Any]) -> None:
        audio = self._up(self._level.apply(frame.astype(np.int16)))
        pcm = (self._denoise(audio) if self._denoise is not None else audio).tobytes()
        self._spoken.append(pcm)
        if self._biased is not None:  # decode once; free recognition only if this one is unsure
            if self._biased_upto is None:
                self._biased.AcceptWaveform(pcm)
            if self._commands_live:
                self._commands.AcceptWaveform(pcm)
        if self._biased is None or self._free_live:
            self._free().AcceptWaveform(pcm)
        self.fed_ms += len(frame) * 1000 // self.rate

    def _free(self) -> VoskRecognizer:
        """The free recogniser of this turn (a new turn borrows the pool's most recently used one)."""
        if self._rec is None:
            self._rec = self.pool.acquire(None)
        return self._rec

    def _start_commands(self) -> None:
        """The command recogniser catches up on the turn so far and follows the rest of it live."""
        if self._commands is not None and not self._commands_live and not self._free_live:
            self._commands.AcceptWaveform(b"".join(self._spoken))
            self._commands_live = True
            self._biased_upto = len(self._spoken)  # the step's recogniser waits (see set_grammar)
            self.command_decodes += 1

    def _start_free(self) -> None:
        """The free recogniser catches up on the turn so far and follows the rest of it live."""
        if not self._free_live:
            self._free().AcceptWaveform(b"".join(self._spoken))
            self._free_live = True

    def _pause(self) -> Pause:
        """The caller paused: the turn's result is decided now (it stands unless they go on).

        A partial result would not do: the decoder lags the audio by 200-400 ms, so at this
        point it still lacks the last word ("i lost my" for "i lost my card")."""
        self._counts = (dict(self.fallbacks), self.command_turns)
        self._measured()
        self._settled = self._decide()
        return Pause(self._settled[0])

    def _resume(self) -> None:
        """The caller went on after a settled pause: the turn is decoded again from its start."""
        self.fallbacks, self.command_turns = self._counts  # that decision did not count
        self._settled = None
        self._unfollow()
        (self._free() if self._biased is None else self._biased).AcceptWaveform(b"".join(self._spoken))

    def _finish(self) -> Final:
        self._measured()
        text, confidence, words = self._settled if self._settled is not None else self._decide()
        grammar = self._grammar_heard
        if self._rec is not None:  # back to the pool at once: a few recognisers serve all the calls' turns
            self.pool.release(None, self._rec)
            self._rec = None
        self._forget_turn()
        self.in_speech, self._loud_run, self._last_partial = False, 0, ""
        return Final(text, confidence, words, grammar)

    def _decide(self) -> Heard:
        """The turn's words and confidence: every recogniser that heard it is finalised."""
        self.last_fallback, self._grammar_heard = "", None
        if self._biased is not None:
            # the command recogniser followed the turn in the biased one's place: a sure command stands
            heard = self._command_heard() if self._biased_upto is not None else None
            if heard is not None:
                forget(self._biased)
                result, (text, confidence) = heard, text_and_confidence(heard)
            else:
                checked = self._biased_upto is not None  # and heard no sure command
                if checked:
                    self._biased.AcceptWaveform(b"".join(self._spoken[self._biased_upto:]))
                    self._biased_upto = None
                result = json.loads(self._biased.FinalResult())
                text, confidence = text_and_confidence(result)
                unsure = not text or confidence < self.BIAS_MIN_CONFIDENCE
                if unsure and not checked:
                    self._start_commands()  # (late: it had no sign of a command while the caller spoke)
                    self._biased_upto = None  # (the biased one has heard the whole turn)
                    heard = self._command_heard()
                    if heard is not None:
                        result, (text, confidence) = heard, text_and_confidence(heard)
                elif self._commands_live and not checked:
                    forget(self._commands)  # started on a passing sign, not needed: its next turn starts afresh
            if not text or confidence < self.BIAS_MIN_CONFIDENCE:  # fall back: the free model hears the turn
                if text:
                    self._grammar_heard = Heard(text, confidence, word_confidences(result))
                self.last_fallback = "early" if self._free_live else "late"
                self.fallbacks[self.last_fallback] += 1
                self._start_free()
                result = json.loads(self._free().FinalResult())
                text, confidence = text_and_confidence(result)
        else:
            result = json.loads(self._free().FinalResult())
            text, confidence = text_and_confidence(result)
        return Heard(text, confidence, word_confidences(result))

    def _command_heard(self) -> dict[str, Any] | None:
        """The command recogniser's result of the turn, if it surely heard a command (else None)."""
        if not self._commands_live:
            return None
        heard: dict[str, Any] = json.loads(self._commands.FinalResult())
        self._commands_live = False
        text, confidence = text_and_confidence(heard)
        # surely heard, no unknown word, and a whole phrase in it: else it is free speech
        # that the command grammar (a bigram model of its phrases) bent into its words
        if confidence >= self.COMMAND_MIN_CONFIDENCE and "[unk]" not in heard.get("text", "") \
                and holds_phrase(text, self._commands_grammar or ()):
            self.command_turns += 1
            return heard
        return None

    def _forget_turn(self) -> None:
        """The turn is over: its kept and held audio and which recognisers followed it are dropped."""
        self._unfollow()
        self._held, self._spoken, self._settled, self._measuring = [], [], None, None
        self._grammar_heard = None

    def _unfollow(self) -> None:
        """Only the first recogniser follows the turn again (the others catch up when needed)."""
        self._free_live, self._commands_live, self._unknown_ticks = False, False, 0
        self._biased_upto = None
