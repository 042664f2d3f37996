"""Vosk models and recognisers: one loaded model per language and process, and a pool of
recognisers per model, reset and reused across turns and calls (a new one is costly)."""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from voicebot.speech.audio import read_wav, resample
from voicebot.speech.models import ModelUnavailable, is_model, model_dir

log = logging.getLogger("voicebot.speech")

VoskModel = Any  # vosk.Model: Vosk ships no type information
VoskRecognizer = Any  # vosk.KaldiRecognizer

_models: dict[Path, VoskModel] = {}
_models_lock = threading.Lock()


def load_model(models_root: Path, lang: str) -> VoskModel:
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


Grammar = tuple[str, ...] | None  # a recogniser's phrase list; None is free recognition


class RecognizerPool:
    """The Vosk recognisers of one model, reset and reused across turns and calls.

    A new free-speech recogniser composes its decoding graph lazily and caches what it
    composed: its first turns cost several times the CPU of a used one's (measured: a 1.8 s
    phrase 1.45 CPU-s new, 0.2 used). So recognisers outlive calls; a few idle ones are kept
    per grammar, and at most ``max_idle`` in all (the least recently used go first).
    """

    def __init__(self, model: VoskModel, rate: int, per_grammar: int = 4, max_idle: int = 48) -> None:
        self.model, self.rate = model, rate
        self.per_grammar, self.max_idle = per_grammar, max_idle
        self._idle: OrderedDict[Grammar, list[VoskRecognizer]] = OrderedDict()
        self._lock = threading.Lock()
        self.created = 0  # recognisers ever made (a measure of how well reuse works)

    def acquire(self, grammar: Grammar) -> VoskRecognizer:
        """A reset recogniser for ``grammar``: an idle one if any, else a new one."""
        with self._lock:
            idle = self._idle.get(grammar)
            if idle:
                self._idle.move_to_end(grammar)
                return idle.pop()
            self.created += 1
        import vosk

        if grammar:
            rec = vosk.KaldiRecognizer(self.model, self.rate, json.dumps([*grammar, "[unk]"]))
        else:
            rec = vosk.KaldiRecognizer(self.model, self.rate)
        rec.SetWords(True)
        return rec

    def release(self, grammar: Grammar, rec: VoskRecognizer) -> None:
        """Give back a recogniser (whatever it heard is dropped)."""
        forget(rec)
        with self._lock:
            idle = self._idle.setdefault(grammar, [])
            self._idle.move_to_end(grammar)
            if len(idle) < self.per_grammar:
                idle.append(rec)
            while sum(len(v) for v in self._idle.values()) > self.max_idle:
                oldest = next(iter(self._idle))
                self._idle[oldest].pop(0)
                if not self._idle[oldest]:
                    del self._idle[oldest]

    def idle(self) -> int:
        """How many recognisers wait in the pool."""
        with self._lock:
            return sum(len(v) for v in self._idle.values())


def forget(rec: VoskRecognizer) -> None:
    """Drop what a recogniser heard, so its next utterance starts afresh.

    Not ``Reset()``: mid-utterance, that keeps the feature pipeline, whose undecoded last frames
    and speaker adaptation then open the next utterance (a caller's last word heard again at the
    start of the next call's: "my talk to an agent"). A final result rebuilds the pipeline; on a
    recogniser that heard nothing since its last one it costs nothing.
    """
    rec.FinalResult()


_pools: dict[int, RecognizerPool] = {}


def pool_for(model: VoskModel, rate: int) -> RecognizerPool:
    """The process's recogniser pool of a loaded model (models are never unloaded)."""
    with _models_lock:
        key = id(model)
        if key not in _pools:
            _pools[key] = RecognizerPool(model, rate)
        return _pools[key]


def warm_up(pool: RecognizerPool, recordings: list[Path], budget_s: float) -> float:
    """Decode up to ``budget_s`` seconds of these recordings with the pool's free recogniser.

    A worker's first callers would otherwise pay for a cold one (several times the CPU, and
    seconds of delay when many calls arrive at once). Returns the seconds of audio decoded.
    """
    rec, done = pool.acquire(None), 0.0
    try:
        for path in recordings:
            if done >= budget_s:
                break
            samples, rate = read_wav(path)
            audio = resample(samples, rate, pool.rate).astype(np.int16)
            for start in range(0, len(audio), pool.rate // 5):
                rec.AcceptWaveform(audio[start:start + pool.rate // 5].tobytes())
            rec.FinalResult()
            done += len(samples) / rate
    finally:
        pool.release(None, rec)
    return done
