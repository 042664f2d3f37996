"""In-band DTMF detection: synthetic keys in noise are found once each; speech and silence give none."""

from __future__ import annotations

import numpy as np
import pytest

from voicebot.telephony.inband_dtmf import DtmfDetector, tone

FRAME = 160


def detect(audio: np.ndarray) -> str:
    det = DtmfDetector()
    keys = ""
    for start in range(0, len(audio) - FRAME + 1, FRAME):
        key = det.feed(audio[start:start + FRAME])
        keys += key or ""
    return keys


def keyed(digits: str, on_s: float = 0.08, gap_s: float = 0.06, noise: float = 0.0, seed: int = 1) -> np.ndarray:
    gap = np.zeros(int(gap_s * 8000), dtype=np.int16)
    audio = np.concatenate([np.concatenate([tone(d, on_s), gap]) for d in digits]).astype(np.float64)
    audio += np.random.default_rng(seed).normal(0, noise, len(audio))
    return np.clip(audio, -32768, 32767).astype(np.int16)


@pytest.mark.parametrize("noise", [0.0, 300.0])
def test_every_key_is_found_once(noise: float) -> None:
    assert detect(keyed("0123456789*#", noise=noise)) == "0123456789*#"


def test_a_held_key_counts_once_and_a_repeated_key_twice() -> None:
    assert detect(keyed("5", on_s=1.0)) == "5"
    assert detect(keyed("55")) == "55"


def test_a_blip_shorter_than_a_key_is_ignored() -> None:
    assert detect(keyed("7", on_s=0.02)) == ""


def test_speech_noise_and_silence_are_not_keys() -> None:
    from voicebot.speech.tts import Synthesizer

    speech = Synthesizer(sample_rate=8000).render("one two three, press five, nine eight seven", "en-US")
    rng = np.random.default_rng(3)
    hiss = rng.normal(0, 2000, 8000 * 3).astype(np.int16)
    assert detect(np.concatenate([speech, hiss, np.zeros(8000, dtype=np.int16)])) == ""
