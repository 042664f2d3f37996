"""Audio helpers on numpy arrays: WAV reading at any rate or width, resampling, levels."""

from __future__ import annotations

import wave
from functools import cache
from math import gcd
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray


def read_wav(source: str | Path | IO[bytes]) -> tuple[NDArray[Any], int]:
    """Mono int16 samples and the file's rate, from 8/16/24/32-bit or float WAV, any channel count.

    Integer PCM is read with the standard library (a worker reads its prompts this way and never
    loads SciPy, about 47 MB); float and extensible WAVs fall back to SciPy's reader."""
    try:
        data, rate = _read_pcm(source)
    except (wave.Error, EOFError):
        from scipy.io import wavfile

        if hasattr(source, "seek"):
            source.seek(0)
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


def _read_pcm(source: str | Path | IO[bytes]) -> tuple[NDArray[Any], int]:
    """Integer PCM frames as (samples, channels) of uint8, int16 or int32 (24-bit widened), and the rate."""
    with wave.open(str(source) if isinstance(source, str | Path) else source, "rb") as w:
        width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
        raw = w.readframes(w.getnframes())
    if width == 3:  # little-endian 24-bit: widen to the top of an int32
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        data = ((b[:, 0] << 8) | (b[:, 1] << 16) | (b[:, 2] << 24)).astype(np.int32)
    else:
        data = np.frombuffer(raw, dtype=np.dtype({1: "u1", 2: "<i2", 4: "<i4"}[width])).astype(
            np.dtype({1: "u1", 2: "i2", 4: "i4"}[width]))
    return (data.reshape(-1, channels) if channels > 1 else data), rate


def write_wav(target: str | Path | IO[bytes], samples: NDArray[Any], rate: int) -> None:
    """Mono int16 PCM WAV. A path is opened first, so a file that cannot be written raises a plain
    OSError (``wave.open`` on a path leaves a half-made writer that complains as it is collected)."""
    if isinstance(target, str | Path):
        with open(target, "wb") as out:
            write_wav(out, samples, rate)
        return
    with wave.open(target, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())


def to_int16(samples: NDArray[Any]) -> NDArray[Any]:
    """Float in [-1, 1] (or already int16) to int16, clipping instead of wrapping."""
    if samples.dtype == np.int16:
        return samples
    return (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)


def resample(samples: NDArray[Any], rate: int, target: int) -> NDArray[Any]:
    """Polyphase resampling to ``target`` Hz (exact ratio), int16 in and out.

    The same design as SciPy's ``resample_poly`` (a Kaiser-windowed sinc, beta 5, 10 zero
    crossings per side at the lower rate; the outputs agree to within 0.003 of a sample step),
    in numpy, so that a worker does not load SciPy for it."""
    if rate == target:
        return samples
    g = gcd(rate, target)
    up, down = target // g, rate // g
    half, per_output, phases = _polyphase(up, down)
    n_out = -(-len(samples) * up // down)
    t = np.arange(n_out, dtype=np.int64) * down  # each output's place at the common rate
    first = -((half - t) // up)  # the first input sample under the filter
    pad = per_output + 1
    x = np.concatenate([np.zeros(pad), samples.astype(np.float64), np.zeros(pad + per_output)])
    windows = np.lib.stride_tricks.sliding_window_view(x, per_output)[first + pad]
    out: NDArray[Any] = np.einsum("nk,nk->n", windows, phases[t % up])
    return saturated_int16(out)


@cache
def _polyphase(up: int, down: int) -> tuple[int, int, NDArray[Any]]:
    """(half length, taps per output, one row of taps per phase) of the anti-aliasing filter."""
    half = 10 * max(up, down)
    h = lowpass(2 * half + 1, 1.0 / max(up, down), np.kaiser(2 * half + 1, 5.0)) * up
    per_output = -(-(2 * half + 1) // up) + 1
    phases = np.zeros((up, per_output))
    for p in range(up):  # output phase p: taps p - first*up + half, then every up-th one back
        idx = p - (-((half - p) // up)) * up + half - np.arange(per_output) * up
        ok = (idx >= 0) & (idx <= 2 * half)
        phases[p, ok] = h[idx[ok]]
    return half, per_output, phases


def lowpass(taps: int, cutoff: float, window: NDArray[Any]) -> NDArray[Any]:
    """A windowed-sinc low-pass FIR with unit gain at DC; ``cutoff`` relative to Nyquist
    (SciPy's ``firwin`` with ``scale=True``, to rounding)."""
    m = np.arange(taps) - (taps - 1) / 2
    h: NDArray[Any] = cutoff * np.sinc(cutoff * m) * window
    unit: NDArray[Any] = h / h.sum()
    return unit


def trim_leading_silence(samples: NDArray[Any], rate: int, keep_ms: int = 5, floor: int = 64) -> NDArray[Any]:
    """Drop the digital silence before the first sound (keeping ``keep_ms`` of it): a reply's
    lead-in silence is latency the caller hears. ``floor`` is about -54 dBFS, below any onset."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > floor)
    if not loud.size:
        return samples
    return samples[max(0, int(loud[0]) - rate * keep_ms // 1000):]


def words_end(samples: NDArray[Any], floor: int = 500) -> int:
    """Where a recording's words end (a sample index): after its last sample above ``floor``,
    so a soft final consonant (the "s" of "balance", -42 to -46 dBFS over 100 ms) counts as
    the words it ends, and only the trailing silence does not. Replies are timed from here."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > floor)
    return int(loud[-1]) + 1 if loud.size else len(samples)


VOICE_DBFS = -41.0  # a frame this loud or louder carries voice (or a tone), not line silence


def is_voiced(frame: NDArray[Any]) -> bool:
    return dbfs(frame) >= VOICE_DBFS


def saturated_int16(samples: NDArray[Any]) -> NDArray[np.int16]:
    """Float samples as int16, values beyond its range held at its ends. Two ufuncs: ``np.clip``'s
    Python wrapper cost 5x as much on a 20 ms frame (every decoded frame of every call passes twice)."""
    held = np.minimum(samples, 32767.0)
    np.maximum(held, -32768.0, out=held)
    return held.astype(np.int16)


def dbfs(frame: NDArray[Any]) -> float:
    """RMS level of a frame in dB relative to full scale (silence is -100)."""
    if frame.size == 0:
        return -100.0
    x = frame.astype(np.float64)
    rms = float(np.sqrt(x @ x / x.size))  # a dot product: called on every frame of every call
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
        if rate_out % rate_in:
            raise ValueError(f"{rate_out} Hz is not a multiple of {rate_in} Hz")
        self.factor = f = rate_out // rate_in
        h = lowpass(taps, 1.0 / f, np.hamming(taps)) * f if f > 1 else np.ones(1)
        h = np.pad(h, (0, -len(h) % f))  # a whole number of taps per phase
        self._phases = [h[p::f] for p in range(f)]  # output sample p of every f from its own sub-filter
        self._history = np.zeros(len(h) // f - 1)

    def __call__(self, frame: NDArray[Any]) -> NDArray[Any]:
        if self.factor == 1:
            return frame
        x = np.concatenate([self._history, frame.astype(np.float64)])
        out = np.empty(len(frame) * self.factor)
        for p, phase in enumerate(self._phases):
            out[p::self.factor] = np.convolve(x, phase, "valid")
        self._history = x[len(x) - len(self._history):]
        return saturated_int16(out)
