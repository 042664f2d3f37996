"""In-band DTMF: keys heard as tones in the caller's audio (old gateways send no RFC 4733 or INFO).

The power at each DTMF frequency (what a Goertzel filter computes) on each 20 ms frame at
8 kHz. A key counts when one low and one high tone stand well above the others and the rest
of the signal (speech has energy everywhere; a key has it at exactly two places) for at
least two frames in a row; the key is reported once, when it starts.
"""

from __future__ import annotations

import numpy as np

LOW = (697.0, 770.0, 852.0, 941.0)
HIGH = (1209.0, 1336.0, 1477.0, 1633.0)
KEYS = ("123A", "456B", "789C", "*0#D")


def tone(key: str, seconds: float = 0.1, rate: int = 8000, level: float = 0.3) -> np.ndarray:
    """The DTMF tone of ``key`` (for softphones and tests)."""
    row = next(i for i, r in enumerate(KEYS) if key in r)
    t = np.arange(int(seconds * rate)) / rate
    wave = np.sin(2 * np.pi * LOW[row] * t) + np.sin(2 * np.pi * HIGH[KEYS[row].index(key)] * t)
    return (wave * level / 2 * 32767).astype(np.int16)


class DtmfDetector:
    """Feed 20 ms frames; ``feed`` returns a key when one begins, else None."""

    MIN_FRAMES = 2  # 40 ms: the shortest key a phone sends is 40-50 ms
    MIN_RMS = 200.0  # quieter frames are not keys
    DOMINANCE = 0.55  # the two tones hold at least this share of the frame's energy
    TWIST_DB = 8.0  # the two tones' levels differ by at most this

    def __init__(self, rate: int = 8000) -> None:
        self.rate = rate
        self._basis: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._candidate: str | None = None
        self._count = 0
        self._reported: str | None = None
        self.tone_now = False  # the last frame held a key tone (callers keep it from the recogniser)

    def _powers(self, x: np.ndarray) -> np.ndarray:
        """Power at the eight DTMF frequencies (the Goertzel values, as two small matrix products)."""
        n = len(x)
        if n not in self._basis:
            # exact frequencies, not the nearest 50 Hz bin: the tones fall between bins
            phase = 2 * np.pi * np.outer(np.array(LOW + HIGH), np.arange(n)) / self.rate
            self._basis[n] = (np.cos(phase), np.sin(phase))
        cos, sin = self._basis[n]
        return (cos @ x) ** 2 + (sin @ x) ** 2

    def classify(self, frame: np.ndarray) -> str | None:
        """The key a single frame holds, or None."""
        x = frame.astype(np.float64)
        energy = float(x @ x)  # one call: most frames (silence, speech) end here, on every call's every frame
        if len(x) == 0 or energy < self.MIN_RMS ** 2 * len(x):
            return None
        p = self._powers(x)
        lo, hi = int(np.argmax(p[:4])), int(np.argmax(p[4:]))
        pl, ph = p[lo], p[4 + hi]
        # energy of a pure tone of amplitude A over n samples in Goertzel terms: (A n / 2)^2
        total = energy * len(x) / 2
        if total <= 0 or (pl + ph) / total < self.DOMINANCE:
            return None
        if abs(10 * np.log10(pl / ph)) > self.TWIST_DB:
            return None
        others_lo = np.delete(p[:4], lo).max()
        others_hi = np.delete(p[4:], hi).max()
        if others_lo * 10 > pl or others_hi * 10 > ph:  # each tone 10 dB above its group's others
            return None
        return KEYS[lo][hi]

    def feed(self, frame: np.ndarray) -> str | None:
        key = self.classify(frame)
        self.tone_now = key is not None
        if key is None:
            self._candidate, self._count, self._reported = None, 0, None
            return None
        if key != self._candidate:
            self._candidate, self._count = key, 0
        self._count += 1
        if self._count >= self.MIN_FRAMES and self._reported != key:
            self._reported = key
            return key
        return None
