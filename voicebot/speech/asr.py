"""Offline recognition with Vosk: one loaded model per language, one streaming recogniser per call.

A light energy-based voice-activity gate sits in front of Vosk, so the silence of a caller
listening to a prompt costs next to nothing; a short pre-roll keeps word onsets. A turn ends
after a configurable trailing silence, or at a maximum length, so memory stays bounded.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicebot.speech.audio import StreamUpsampler, dbfs, resample
from voicebot.speech.models import ModelUnavailable, is_model, model_dir

log = logging.getLogger("voicebot.speech")

_models: dict[Path, object] = {}
_models_lock = threading.Lock()


def load_model(models_root: Path, lang: str) -> object:
    """The shared ``vosk.Model`` of a language, loaded once per process."""
    path = model_dir(models_root, lang)
    with _models_lock:
        if path not in _models:
            if not is_model(path):
                raise ModelUnavailable(f"no Vosk model for {lang} in {path}: run 'voicebot models fetch --lang {lang}'")
            import vosk

            vosk.SetLogLevel(-1)
            log.info("loading Vosk model %s", path)
            _models[path] = vosk.Model(str(path))
        return _models[path]


@dataclass(frozen=True)
class SpeechStarted:
    """The caller began to speak (barge-in: stop the prompt)."""


@dataclass(frozen=True)
class Partial:
    text: str


@dataclass(frozen=True)
class Final:
    text: str
    confidence: float


AsrEvent = SpeechStarted | Partial | Final


@dataclass
class VadSettings:
    frame_ms: int = 20
    start_frames: int = 3  # 60 ms above the threshold starts speech
    min_dbfs: float = -45.0  # quieter than this is never speech
    above_floor_db: float = 12.0  # speech stands this far above the running noise floor
    pre_roll_ms: int = 300
    endpoint_ms: int = 700  # trailing silence that ends a turn
    max_turn_s: float = 15.0  # a monologue is cut into turns of at most this
    partial_every_ms: int = 100  # partial results are costly to compute: ask for them this often


class StreamingRecognizer:
    """Feed 20 ms int16 frames; get SpeechStarted, Partial and Final events back."""

    MODEL_RATE = 16000  # the small Vosk models are 16 kHz and do not upsample by themselves

    def __init__(self, model: object, sample_rate: int, vad: VadSettings | None = None,
                 grammar: tuple[str, ...] | list[str] | None = None) -> None:
        import vosk

        self.rate = sample_rate
        self._up = StreamUpsampler(sample_rate, self.MODEL_RATE)
        self.vad = vad or VadSettings()
        self._vosk = vosk
        self._model = model
        self._rec = self._new_recognizer(None)
        self._biased = None  # a cheap recogniser with the step's grammar, tried first
        self._turn: list[bytes] = []  # the turn's audio, for free recognition when the biased one is unsure
        self.set_grammar(grammar)
        frame = sample_rate * self.vad.frame_ms // 1000
        self._pre_roll: deque[np.ndarray] = deque(maxlen=max(1, self.vad.pre_roll_ms // self.vad.frame_ms))
        self._frame_len = frame
        self._noise_floor = -70.0
        self._loud_run = 0
        self._silent_ms = 0
        self._speech_ms = 0
        self.in_speech = False
        self._last_partial = ""
        self.fed_ms = 0  # audio actually given to Vosk (what gating saves shows here)

    def _new_recognizer(self, grammar: tuple[str, ...] | list[str] | None) -> object:
        if grammar:
            rec = self._vosk.KaldiRecognizer(self._model, self.MODEL_RATE, json.dumps([*grammar, "[unk]"]))
        else:
            rec = self._vosk.KaldiRecognizer(self._model, self.MODEL_RATE)
        rec.SetWords(True)
        return rec

    def set_grammar(self, phrases: tuple[str, ...] | list[str] | None) -> None:
        """Bias the next turns to these phrases (yes/no, digits); None for free speech only.

        Only the biased recogniser decodes while the caller speaks (half the CPU of running
        both); the turn's audio is kept, and when the biased result is empty or less than
        ``BIAS_MIN_CONFIDENCE`` sure the free recogniser decodes it at the end of the turn.
        """
        from voicebot.speech.grammars import in_vocabulary

        known = in_vocabulary(self._model, phrases) if phrases else []
        if getattr(self, "_turn", None):  # changed mid-turn: the free recogniser keeps what was said so far
            self._rec.AcceptWaveform(b"".join(self._turn))
            self._turn = []
        self._biased = self._new_recognizer(known) if known else None

    BIAS_MIN_CONFIDENCE = 0.7

    def feed(self, frame: np.ndarray) -> list[AsrEvent]:
        events: list[AsrEvent] = []
        level = dbfs(frame)
        loud = level > max(self.vad.min_dbfs, self._noise_floor + self.vad.above_floor_db)
        ms = len(frame) * 1000 // self.rate
        if not self.in_speech:
            if not loud:  # track the noise floor only while nobody speaks
                self._noise_floor = 0.95 * self._noise_floor + 0.05 * level
            self._pre_roll.append(frame)
            self._loud_run = self._loud_run + 1 if loud else 0
            if self._loud_run >= self.vad.start_frames:
                self.in_speech, self._silent_ms, self._speech_ms = True, 0, 0
                events.append(SpeechStarted())
                for buffered in self._pre_roll:
                    self._accept(buffered)
                self._pre_roll.clear()
            return events
        self._accept(frame)
        self._speech_ms += ms
        self._silent_ms = 0 if loud else self._silent_ms + ms
        if self._silent_ms >= self.vad.endpoint_ms or self._speech_ms >= self.vad.max_turn_s * 1000:
            events.append(self._finish())
        elif self._speech_ms % self.vad.partial_every_ms < ms:
            partial = json.loads((self._biased or self._rec).PartialResult()).get("partial", "")
            if partial and partial != self._last_partial:
                self._last_partial = partial
                events.append(Partial(partial))
        return events

    def flush(self) -> Final | None:
        """End the current turn now (e.g. the caller hung up mid-sentence)."""
        return self._finish() if self.in_speech else None

    def _accept(self, frame: np.ndarray) -> None:
        pcm = self._up(frame.astype(np.int16)).tobytes()
        if self._biased is not None:  # decode once; free recognition only if this one is unsure
            self._biased.AcceptWaveform(pcm)
            self._turn.append(pcm)
        else:
            self._rec.AcceptWaveform(pcm)
        self.fed_ms += len(frame) * 1000 // self.rate

    def _finish(self) -> Final:
        if self._biased is not None:
            text, confidence = text_and_confidence(json.loads(self._biased.FinalResult()))
            if not text or confidence < self.BIAS_MIN_CONFIDENCE:  # fall back: the free model hears the turn
                self._rec.AcceptWaveform(b"".join(self._turn))
                text, confidence = text_and_confidence(json.loads(self._rec.FinalResult()))
            self._turn = []
        else:
            text, confidence = text_and_confidence(json.loads(self._rec.FinalResult()))
        self.in_speech, self._loud_run, self._last_partial = False, 0, ""
        return Final(text, confidence)


def text_and_confidence(result: dict) -> tuple[str, float]:
    """Vosk's result to (text, mean word confidence); '[unk]' words are dropped."""
    words = [w for w in result.get("result", []) if w.get("word") != "[unk]"]
    text = " ".join(w["word"] for w in words) if words else result.get("text", "").replace("[unk]", "").strip()
    confidence = float(np.mean([w.get("conf", 0.0) for w in words])) if words else 0.0
    return " ".join(text.split()), round(confidence, 3)


def transcribe(model: object, samples: np.ndarray, rate: int) -> tuple[str, float]:
    """Whole-file recognition (no gating), resampled to 16 kHz, fed in 0.2 s chunks."""
    import vosk

    pad = np.zeros(4000, dtype=np.int16)  # a quarter second of lead-in and -out: Vosk misses onsets without it
    audio = np.concatenate([pad, resample(samples, rate, 16000), pad])
    rec = vosk.KaldiRecognizer(model, 16000)
    rec.SetWords(True)
    words: list[dict] = []
    step = 3200
    for start in range(0, len(audio), step):
        if rec.AcceptWaveform(audio[start:start + step].tobytes()):
            words += json.loads(rec.Result()).get("result", [])
    words += json.loads(rec.FinalResult()).get("result", [])
    return text_and_confidence({"result": words})
