"""Utterance recognition with Whisper base on CTranslate2 (int8): Mandarin where no Vosk model is.

Whisper hears a whole utterance at once, so it is only given endpointed speech (see
``utterance``). Its encoder is fed a window fitted to the utterance (speech plus 1 s), not the
fixed 30 s of the reference implementation: several times less CPU for a phone turn of 1-5 s.
Whisper invents text on silence and noise and can loop on digits; so its no-speech
probability, repeated runs and text far longer than the audio allows are checked and such
results dropped. Output is simplified Chinese (an initial prompt in simplified characters, then
OpenCC), its punctuation removed; the prompt also carries the line's own words (its services).
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from voicebot.speech.audio import resample
from voicebot.speech.models import ModelUnavailable

log = logging.getLogger("voicebot.speech")

RATE = 16000
N_FFT, HOP, N_MELS = 400, 160, 80
PAD_S = 1.0  # silence after the speech: Whisper ends words better with some
LANG_TOKENS = {"zh-CN": "<|zh|>", "en-US": "<|en|>"}
STYLE = {"zh-CN": "以下是普通话的句子，使用简体中文。", "en-US": "The following is a phone call to a bank."}
_PUNCT = re.compile(r"[\s,.!?;:，。！？；：、“”‘’\"'（）()《》…—\-]+")
_LOOP = re.compile(r"(.{1,6}?)\1{3,}")  # a run of 1-6 characters said four times or more


@dataclass(frozen=True)
class Transcript:
    text: str
    confidence: float  # exp(mean token log-probability): 0 when a guard dropped the result
    no_speech: float
    dropped: str = ""  # why the result was dropped, if it was


def mel_filters(n_mels: int = N_MELS) -> NDArray[Any]:
    """Whisper's filterbank: Slaney-scale mel triangles of equal area over the FFT bins at 16 kHz."""
    def hz_to_mel(f: NDArray[Any]) -> NDArray[Any]:
        return np.where(f >= 1000, 15 + np.log(np.maximum(f, 1e-10) / 1000) / (np.log(6.4) / 27), f * 3 / 200)

    def mel_to_hz(m: NDArray[Any]) -> NDArray[Any]:
        return np.where(m >= 15, 1000 * np.exp((np.log(6.4) / 27) * (m - 15)), m * 200 / 3)

    fft_hz = np.linspace(0, RATE / 2, N_FFT // 2 + 1)
    mel_hz = mel_to_hz(np.linspace(hz_to_mel(np.array(0.0)), hz_to_mel(np.array(RATE / 2.0)), n_mels + 2))
    ramps = mel_hz[:, None] - fft_hz[None, :]
    width = np.diff(mel_hz)
    weights = np.maximum(0, np.minimum(-ramps[:-2] / width[:-1, None], ramps[2:] / width[1:, None]))
    bank: NDArray[Any] = (weights * (2.0 / (mel_hz[2:] - mel_hz[:-2]))[:, None]).astype(np.float32)
    return bank


_FILTERS = mel_filters()
_WINDOW = np.hanning(N_FFT + 1)[:-1].astype(np.float32)


def log_mel(audio: NDArray[Any]) -> NDArray[Any]:
    """Whisper's input features of float audio at 16 kHz: (80, frames), an even frame count."""
    padded = np.pad(audio.astype(np.float32), N_FFT // 2, mode="reflect")
    count = 1 + (len(padded) - N_FFT) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:count]
    power = np.abs(np.fft.rfft(frames * _WINDOW, axis=1)) ** 2
    mel = np.log10(np.maximum(_FILTERS @ power[:-1].T, 1e-10))
    mel = (np.maximum(mel, mel.max() - 8.0) + 4.0) / 4.0
    return np.ascontiguousarray(mel[:, : mel.shape[1] // 2 * 2], dtype=np.float32)


class WhisperRecognizer:
    """One loaded model per process, shared by every call (CTranslate2 queues concurrent requests)."""

    NO_SPEECH_MAX = 0.6  # above this the model itself thinks nothing was said
    CHARS_PER_S = 9.0  # Mandarin is read at about 4-6 characters a second: far more is invented
    MAX_TOKENS = 96

    def __init__(self, path: Path, threads: int | None = None, beam_size: int = 1) -> None:
        import ctranslate2
        import tokenizers

        workers = threads or max(1, min(4, os.cpu_count() or 1))
        self._model = ctranslate2.models.Whisper(str(path), device="cpu", compute_type="int8",
                                                 inter_threads=workers, intra_threads=1)
        self._tok = tokenizers.Tokenizer.from_file(str(path / "tokenizer.json"))
        self._storage = ctranslate2.StorageView
        self.beam_size = beam_size
        self.end = self._tok.token_to_id("<|endoftext|>")

    def _id(self, token: str) -> int:
        found = self._tok.token_to_id(token)
        if found is None:
            raise ModelUnavailable(f"the Whisper tokenizer has no {token}")
        return found

    def max_tokens(self, seconds: float) -> int:
        """Room for what can be said in this time (a loop stops there), at most MAX_TOKENS."""
        return min(self.MAX_TOKENS, int(self.CHARS_PER_S * seconds * 1.5) + 8)

    def prompt(self, lang: str, hint: str = "") -> list[int]:
        previous = self._tok.encode(" " + STYLE[lang] + hint, add_special_tokens=False).ids[-100:]
        return [self._id("<|startofprev|>"), *previous, self._id("<|startoftranscript|>"),
                self._id(LANG_TOKENS[lang]), self._id("<|transcribe|>"), self._id("<|notimestamps|>")]

    WINDOW_S = 28.0  # the encoder takes at most 30 s: longer audio is heard in pieces this long

    def transcribe(self, samples: NDArray[Any], rate: int, lang: str, hint: str = "") -> Transcript:
        """The words of one endpointed utterance (int16 at any rate), or an empty, dropped result."""
        audio = resample(samples.astype(np.int16), rate, RATE).astype(np.float32) / 32768.0
        step = int(self.WINDOW_S * RATE)
        pieces = [self._piece(audio[i:i + step], lang, hint) for i in range(0, max(1, len(audio)), step)]
        heard = [p for p in pieces if not p.dropped]
        if not heard:
            return pieces[0]
        joiner = "" if lang == "zh-CN" else " "
        return Transcript(joiner.join(p.text for p in heard), min(p.confidence for p in heard),
                          max(p.no_speech for p in heard))

    def _piece(self, audio: NDArray[Any], lang: str, hint: str) -> Transcript:
        seconds = len(audio) / RATE
        features = log_mel(np.concatenate([audio, np.zeros(int(PAD_S * RATE), np.float32)]))
        prompt = self.prompt(lang, hint)
        result = self._model.generate(self._storage.from_array(features[None]), [prompt],  # length counts the prompt
                                      beam_size=self.beam_size, max_length=len(prompt) + self.max_tokens(seconds),
                                      return_scores=True, return_no_speech_prob=True)[0]
        ids = [t for t in result.sequences_ids[0] if t < self.end] if result.sequences_ids else []
        raw = self._tok.decode(ids).replace("\ufffd", "")  # a character cut between tokens
        text = once(clean(raw, lang))
        confidence = round(math.exp(result.scores[0]), 3) if result.scores else 0.0
        why = guard(text, seconds, result.no_speech_prob, lang, self.NO_SPEECH_MAX, self.CHARS_PER_S, confidence)
        if not why and said_back(text, lang, hint, result.no_speech_prob):
            why = "the prompt said back"  # nothing it could hear, so it repeated what it was told to expect
        if why:
            # not the words: they may be a PIN said aloud, and the speech layer does not know the step
            log.info("whisper dropped a result (%s, %.1f s, %d characters)", why, seconds, len(raw))
            return Transcript("", 0.0, result.no_speech_prob, why)
        return Transcript(text, confidence, result.no_speech_prob)


# the per-token probability at or above which words stand even when the model doubts anything was
# said (Whisper's own rule: silence is a high no-speech probability *and* an average log-probability
# below -1). A number read in groups came back whole at 0.66 no-speech on one CPU and was dropped.
SURE_WORDS = math.exp(-1.0)


# on silence or noise with a step's words in the prompt, Whisper may say them back ("余额使用简体中文"
# for the hint "余额", no-speech 0.63): made only of the prompt's words and doubted, it is not the caller's
SAID_BACK_NO_SPEECH = 0.3


def said_back(text: str, lang: str, hint: str = "", no_speech: float = 0.0) -> bool:
    """Whether ``text`` is the prompt (the style sentence and the step's words) said back."""
    heard = text.replace(" ", "")
    if len(heard) < 4:
        return False
    if heard in clean(STYLE[lang], lang).replace(" ", ""):
        return True
    told = clean(STYLE[lang] + " " + hint, lang)
    if lang == "zh-CN":  # characters: Mandarin has no spaces between words
        return no_speech >= SAID_BACK_NO_SPEECH and set(heard) <= set(told.replace(" ", ""))
    return no_speech >= SAID_BACK_NO_SPEECH and set(text.lower().split()) <= set(told.lower().split())


def guard(text: str, seconds: float, no_speech: float, lang: str, no_speech_max: float = 0.6,
          chars_per_s: float = 9.0, confidence: float = 0.0) -> str:
    """Why a result must not be trusted ('' when it may): silence, a loop, more text than time.
    ``confidence`` is the words' mean per-token probability."""
    if not text:
        return "empty"
    if no_speech > no_speech_max and confidence < SURE_WORDS:
        return f"no speech {no_speech:.2f}"
    if _LOOP.search(re.sub(r"[\d\s]", "", text)):  # digits repeat in real numbers (6222 0200 0000 0001)
        return "repetition"
    units = len(text.replace(" ", "")) if lang == "zh-CN" else len(text.split()) * 2.5
    if units > chars_per_s * seconds + 4:
        return "longer than the audio"
    return ""


def once(text: str, shortest: int = 3) -> str:
    """The sentence said once, where decoding ran on past its end and said it again (perhaps cut off):
    a text that repeats itself with some period over at least half again its length is cut to that."""
    if sum(c.isdigit() for c in text) * 2 > len(text):  # a number's groups may repeat (1234 1234)
        return text
    for period in range(shortest, len(text) * 2 // 3 + 1):
        if text[period:] == text[:len(text) - period]:
            return text[:period].strip()
    return text


@cache
def _to_simplified() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def clean(text: str, lang: str) -> str:
    """Simplified characters, no punctuation; words kept apart only where the language has spaces."""
    if lang == "zh-CN":
        text = _to_simplified().convert(text)
        text = _PUNCT.sub(" ", text).strip()
        return re.sub(r"(?<=[\u4e00-\u9fff]) (?=[\u4e00-\u9fff])", "", text)
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


_loaded: dict[Path, WhisperRecognizer] = {}
_lock = threading.Lock()


def load(models_root: Path) -> WhisperRecognizer:
    """The process's Whisper model, loaded once (ModelUnavailable until set-up installed it)."""
    from voicebot.speech.whisper_files import is_installed, model_dir

    path = model_dir(models_root)
    with _lock:
        if path not in _loaded:
            if not is_installed(path):
                raise ModelUnavailable(f"no Whisper model in {path}: run 'voicebot models fetch --lang zh-CN'")
            log.info("loading Whisper model %s", path)
            _loaded[path] = WhisperRecognizer(path)
        return _loaded[path]
