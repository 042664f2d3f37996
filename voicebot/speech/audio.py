"""Audio helpers on numpy arrays: WAV reading at any rate or width, resampling, levels."""

from __future__ import annotations

from math import gcd
from pathlib import Path
from typing import BinaryIO

import numpy as np


def read_wav(source: str | Path | BinaryIO) -> tuple[np.ndarray, int]:
    """Mono int16 samples and the file's rate, from 8/16/24/32-bit or float WAV, any channel count."""
    from scipy.io import wavfile

    rate, data = wavfile.read(source if hasattr(source, "read") else str(source))
    if data.ndim == 2:  # average the channels without leaving the sample type's scale
        data = data.mean(axis=1).astype(data.dtype)
    if data.dtype == np.uint8:
        data = (data.astype(np.float32) - 128) / 128
    elif data.dtype == np.int16:
        return data.astype(np.int16), rate
    elif data.dtype == np.int32:
        data = data.astype(np.float32) / 2**31
    elif data.dtype.kind == "f":
        data = data.astype(np.float32)
    else:
        raise ValueError(f"unsupported WAV sample type {data.dtype}")
    return to_int16(data), rate


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float in [-1, 1] (or already int16) to int16, clipping instead of wrapping."""
    if samples.dtype == np.int16:
        return samples
    return (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Polyphase resampling to ``target`` Hz (exact ratio), int16 in and out."""
    if rate == target:
        return samples
    from scipy.signal import resample_poly

    g = gcd(rate, target)
    out = resample_poly(samples.astype(np.float32), target // g, rate // g)
    return np.clip(out, -32768, 32767).astype(np.int16)


def trim_leading_silence(samples: np.ndarray, rate: int, keep_ms: int = 5, floor: int = 64) -> np.ndarray:
    """Drop the digital silence before the first sound (keeping ``keep_ms`` of it): a reply's
    lead-in silence is latency the caller hears. ``floor`` is about -54 dBFS, below any onset."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > floor)
    if not loud.size:
        return samples
    return samples[max(0, int(loud[0]) - rate * keep_ms // 1000):]


VOICE_DBFS = -41.0  # a frame this loud or louder carries voice (or a tone), not line silence


def is_voiced(frame: np.ndarray) -> bool:
    return dbfs(frame) >= VOICE_DBFS


def dbfs(frame: np.ndarray) -> float:
    """RMS level of a frame in dB relative to full scale (silence is -100)."""
    if frame.size == 0:
        return -100.0
    rms = float(np.sqrt(np.mean(frame.astype(np.float64) ** 2)))
    return 20 * np.log10(rms / 32768) if rms > 0 else -100.0


class StreamUpsampler:
    """Integer-ratio upsampling of a stream of frames (8 kHz phone audio -> 16 kHz for the models).

    A polyphase low-pass FIR whose input history carries across frames, so frame edges leave no
    clicks; ``rate_out`` must be a multiple of ``rate_in``. The filter is long (255 taps: a
    transition band ~200 Hz wide) because the wideband models lean on the top of the phone band:
    a 63-tap filter, which rolls off from ~3.6 kHz, cost 3 points of menu WER and 5 of routing
    (bench/speech_bench.py).
    """

    def __init__(self, rate_in: int, rate_out: int, taps: int = 255) -> None:
        from scipy.signal import firwin

        if rate_out % rate_in:
            raise ValueError(f"{rate_out} Hz is not a multiple of {rate_in} Hz")
        self.factor = f = rate_out // rate_in
        h = firwin(taps, 1.0 / f) * f if f > 1 else np.ones(1)
        h = np.pad(h, (0, -len(h) % f))  # a whole number of taps per phase
        self._phases = [h[p::f] for p in range(f)]  # output sample p of every f from its own sub-filter
        self._history = np.zeros(len(h) // f - 1)

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        if self.factor == 1:
            return frame
        x = np.concatenate([self._history, frame.astype(np.float64)])
        out = np.empty(len(frame) * self.factor)
        for p, phase in enumerate(self._phases):
            out[p::self.factor] = np.convolve(x, phase, "valid")
        self._history = x[len(x) - len(self._history):]
        return np.clip(out, -32768, 32767).astype(np.int16)
