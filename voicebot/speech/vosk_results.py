"""What Vosk's JSON results say: a turn's text and confidence, each word's confidence, whether a
grammar's phrase is in it; and whole-file recognition (``transcribe``) for checks and benches."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from voicebot.speech.audio import resample
from voicebot.speech.recognizers import VoskModel, VoskRecognizer


class Heard(NamedTuple):
    """A turn's result: its text, mean word confidence, and each word's confidence."""

    text: str
    confidence: float
    words: tuple[tuple[str, float], ...]


def partial_text(rec: VoskRecognizer) -> str:
    return str(json.loads(rec.PartialResult()).get("partial", ""))


def holds_phrase(text: str, phrases: tuple[str, ...]) -> bool:
    """Some whole phrase of ``phrases`` occurs in ``text`` (word for word, in order)."""
    words, known = text.split(), set(phrases)
    return any(" ".join(words[i:j]) in known for i in range(len(words)) for j in range(i + 1, len(words) + 1))


def mostly_unknown(partial: str) -> bool:
    """At least half the words of a partial result are out of the grammar ('[unk]')."""
    words = partial.split()
    return 2 * words.count("[unk]") >= len(words)


def word_confidences(result: dict[str, Any]) -> tuple[tuple[str, float], ...]:
    """Each recognised word with the recogniser's confidence in it ('[unk]' left out)."""
    return tuple((w["word"], round(float(w.get("conf", 0.0)), 3)) for w in result.get("result", [])
                 if w.get("word") != "[unk]")


def text_and_confidence(result: dict[str, Any]) -> tuple[str, float]:
    """Vosk's result to (text, mean word confidence); '[unk]' words are dropped from the text
    and count as not heard in the confidence ("four [unk]" for four digits is not a sure "four")."""
    heard = result.get("result", [])
    words = [w for w in heard if w.get("word") != "[unk]"]
    text = " ".join(w["word"] for w in words) if words else result.get("text", "").replace("[unk]", "").strip()
    confidence = sum(w.get("conf", 0.0) for w in words) / len(heard) if words else 0.0
    return " ".join(text.split()), round(confidence, 3)


def transcribe(model: VoskModel, samples: NDArray[Any], rate: int) -> tuple[str, float]:
    """Whole-file recognition (no gating), resampled to 16 kHz, fed in 0.2 s chunks."""
    import vosk

    pad = np.zeros(4000, dtype=np.int16)  # a quarter second of lead-in and -out: Vosk misses onsets without it
    audio = np.concatenate([pad, resample(samples, rate, 16000), pad])
    rec = vosk.KaldiRecognizer(model, 16000)
    rec.SetWords(True)
    words: list[dict[str, Any]] = []
    step = 3200
    for start in range(0, len(audio), step):
        if rec.AcceptWaveform(audio[start:start + step].tobytes()):
            words += json.loads(rec.Result()).get("result", [])
    words += json.loads(rec.FinalResult()).get("result", [])
    return text_and_confidence({"result": words})
