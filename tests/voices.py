"""Real human voices for tests and benches: spoken numbers built from the Free Spoken Digit Dataset.

`../shared/data/fsdd/` holds three speakers' recordings of each digit (CC BY-SA 4.0, see its
README). A number is read as people read a card aloud: digits in groups of four, a short gap
between digits, a longer pause between groups; at the speaker's own level or another, with
line hiss, through G.711 µ-law as on a phone line. Every choice comes from a seeded generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voicebot.config import PROJECT_DIR
from voicebot.speech.audio import read_wav

FSDD = PROJECT_DIR.parent / "shared" / "data" / "fsdd"
SPEAKERS = ("jackson", "george", "lucas")
RATE = 8000


def fsdd_available() -> bool:
    return FSDD.is_dir() and any(FSDD.glob("0_jackson_*.wav"))


_cache: dict[tuple[int, str], list[np.ndarray]] = {}


def takes(digit: int, speaker: str) -> list[np.ndarray]:
    """Every recording of ``digit`` by ``speaker`` (float, 8 kHz)."""
    key = (digit, speaker)
    if key not in _cache:
        files = sorted(FSDD.glob(f"{digit}_{speaker}_*.wav"))
        if not files:
            raise FileNotFoundError(f"no FSDD recordings of {digit} by {speaker} in {FSDD}")
        _cache[key] = [read_wav(f)[0].astype(np.float64) for f in files]
    return _cache[key]


@dataclass(frozen=True)
class Reading:
    """How a caller reads a number out."""

    speaker: str
    level_dbfs: float | None = None  # speech RMS level; None: as recorded
    peak_dbfs: float | None = None  # or: the loudest sample at this level (a loud caller, peak-normalised)
    group: int = 4  # digits said together
    digit_gap_s: tuple[float, float] = (0.05, 0.15)
    group_pause_s: tuple[float, float] = (0.7, 1.2)
    hiss_dbfs: float | None = -60.0  # line noise under everything (None: digital silence)
    ulaw: bool = True  # through G.711 µ-law and back

    @property
    def label(self) -> str:
        if self.peak_dbfs is not None:
            level = f"{self.peak_dbfs:+.0f}dBFS peak"
        else:
            level = "recorded" if self.level_dbfs is None else f"{self.level_dbfs:+.0f}dBFS rms"
        return f"{self.speaker}/{level}/groups of {self.group}"


def spoken_number(digits: str, how: Reading, rng: np.random.Generator, lead_s: float = 0.4,
                  tail_s: float = 0.0) -> np.ndarray:
    """``digits`` read out as ``how`` says: int16 samples at 8 kHz."""
    parts: list[np.ndarray] = [np.zeros(int(lead_s * RATE))]
    for i, ch in enumerate(digits):
        if i:
            lo, hi = how.group_pause_s if i % how.group == 0 else how.digit_gap_s
            parts.append(np.zeros(int(rng.uniform(lo, hi) * RATE)))
        options = takes(int(ch), how.speaker)
        parts.append(options[int(rng.integers(len(options)))])
    parts.append(np.zeros(int(tail_s * RATE)))
    audio = np.concatenate(parts)
    if how.level_dbfs is not None:
        voiced = audio[np.abs(audio) > 0]
        rms = np.sqrt(np.mean(voiced ** 2)) if len(voiced) else 1.0
        audio = audio * (32768 * 10 ** (how.level_dbfs / 20) / rms)
    if how.peak_dbfs is not None:
        audio = audio * (32767 * 10 ** (how.peak_dbfs / 20) / max(np.abs(audio).max(), 1.0))
    if how.hiss_dbfs is not None:
        audio = audio + rng.normal(0, 32768 * 10 ** (how.hiss_dbfs / 20), len(audio))
    audio = np.clip(audio, -32768, 32767)
    if how.ulaw:
        audio = ulaw_roundtrip(audio)
    return audio.astype(np.int16)


def ulaw_roundtrip(audio: np.ndarray) -> np.ndarray:
    """What G.711 µ-law does to 16-bit audio (encode then decode, as a phone line does)."""
    mu = 255.0
    x = np.clip(audio / 32768.0, -1.0, 1.0)
    code = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)
    code = np.round(code * 127) / 127  # 8 bits: sign and 7 of magnitude
    return np.sign(code) * (np.expm1(np.abs(code) * np.log1p(mu)) / mu) * 32768.0


def card_numbers(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` 16-digit card numbers of this bank's form (6222 02..), the rest random."""
    return ["622202" + "".join(str(d) for d in rng.integers(0, 10, 10)) for _ in range(n)]


def readings() -> list[Reading]:
    """Every speaker as recorded, as a quiet caller (-45 dBFS) and peak-normalised (a loud one)."""
    return [r for speaker in SPEAKERS
            for r in (Reading(speaker), Reading(speaker, level_dbfs=-45.0), Reading(speaker, peak_dbfs=-1.0))]
