"""A call's recogniser for an engine that hears whole utterances (Whisper), behind the same
events as the streaming Vosk one: SpeechStarted at the first speech (barge-in), Final at the
endpoint. The voice-activity detector does the endpointing, since such an engine has no partial
results; the turn's audio (with its pre-roll, level-normalised) is decoded once, at its end.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import Any

import numpy as np
from numpy.typing import NDArray

from voicebot.speech.asr import AsrEvent, Final, SpeechStarted, VadSettings
from voicebot.speech.audio import dbfs
from voicebot.speech.vocabulary import hint_for
from voicebot.speech.voice_activity import LevelNormaliser, SpeechDetector
from voicebot.speech.whisper import WhisperRecognizer

log = logging.getLogger("voicebot.speech")


class UtteranceRecognizer:
    """Feed 20 ms int16 frames; get SpeechStarted and Final events back (no partial results)."""

    MIN_SPEECH_MS = 200  # shorter than this is a click or a cough, not a word
    LEAD_MS = 200  # audio kept from before the detected start (Whisper needs no long lead-in; a long
    # silent one made it say the sentence twice)

    def __init__(self, model: WhisperRecognizer, sample_rate: int, lang: str, vad: VadSettings | None = None) -> None:
        self.model, self.rate, self.lang = model, sample_rate, lang
        self.vad = vad or VadSettings()
        self._detector = SpeechDetector(sample_rate, self.vad.detector, self.vad.aggressiveness, self.vad.min_dbfs,
                                        self.vad.above_floor_db)
        self._level = LevelNormaliser(self.vad.normalise)
        self._pre_roll: deque[NDArray[Any]] = deque(maxlen=max(1, self.LEAD_MS // self.vad.frame_ms))
        self._turn: list[NDArray[Any]] = []
        self._loud_run = self._silent_ms = self._speech_ms = self._voiced_ms = 0
        self.in_speech = False
        self.hint = ""
        self.last_fallback = ""  # no grammar/free split here (the voice channel logs it)
        self.fed_ms = 0  # audio given to the recogniser
        self.dropped = 0  # turns whose text a guard refused (noise, silence, a loop)

    def set_grammar(self, phrases: tuple[str, ...] | list[str] | None,
                    commands: tuple[str, ...] | list[str] | None = None, settle_early: bool = False) -> None:
        """Bias the next turns towards a step's words (through the model's prompt)."""
        self.hint = hint_for(tuple(phrases) if phrases else None, self.lang)

    def feed(self, frame: NDArray[Any]) -> list[AsrEvent]:
        loud = self._detector.is_speech(frame, dbfs(frame), self.in_speech)
        ms = len(frame) * 1000 // self.rate
        if not self.in_speech:
            self._pre_roll.append(frame)
            self._loud_run = self._loud_run + 1 if loud else 0
            if self._loud_run < self.vad.start_frames:
                return []
            self.in_speech, self._silent_ms, self._speech_ms, self._voiced_ms = True, 0, 0, 0
            self._turn = list(self._pre_roll)
            self._pre_roll.clear()
            return [SpeechStarted()]
        self._turn.append(frame)
        self._speech_ms += ms
        self._voiced_ms += ms if loud else 0
        self._silent_ms = 0 if loud else self._silent_ms + ms
        if self._silent_ms >= self.vad.endpoint_ms or self._speech_ms >= self.vad.max_turn_s * 1000:
            return [self._finish()]
        return []

    def flush(self) -> Final | None:
        """End the current turn now (e.g. the caller hung up mid-sentence)."""
        return self._finish() if self.in_speech else None

    def close(self) -> None:
        """The call is over (nothing is pooled: the model is shared)."""
        self._turn, self.in_speech = [], False

    def _finish(self) -> Final:
        frames, self._turn = self._turn, []
        self.in_speech, self._loud_run = False, 0
        if self._voiced_ms < self.MIN_SPEECH_MS:
            return Final("", 0.0)
        keep = len(frames) - max(0, self._silent_ms - self.vad.trailing_fed_ms) // self.vad.frame_ms
        frames = frames[:max(1, keep)]  # the endpoint's silence is not speech: the model's own pad follows
        self._level.measure(frames)
        audio = np.concatenate([self._level.apply(f.astype(np.int16)) for f in frames])
        self.fed_ms += len(audio) * 1000 // self.rate
        heard = self.model.transcribe(audio, self.rate, self.lang, self.hint)
        if heard.dropped:
            self.dropped += 1
        words = tuple((w, heard.confidence) for w in heard.text.split())
        return Final(heard.text, heard.confidence, words)

