"""Hold music for callers waiting in the agent queue, made here rather than shipped as a file:
the chord progression of Pachelbel's Canon in D (1680s, public domain), arpeggiated in soft
tones over a bass line, about 19 s that loop seamlessly, at -24 dBFS so announcements stand out.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from numpy.typing import NDArray

BEAT_S = 0.6
LEVEL = 0.063  # peak, of full scale (-24 dBFS)
# the Canon's eight chords (D A Bm F#m G D G A) as MIDI notes: bass, then the triad
CHORDS = ((50, 62, 66, 69), (45, 61, 64, 69), (47, 62, 66, 71), (42, 61, 66, 69),
          (43, 62, 67, 71), (50, 62, 66, 69), (43, 62, 67, 71), (45, 61, 64, 69))


def _tone(midi: int, seconds: float, rate: int) -> NDArray[np.float64]:
    t = np.arange(int(seconds * rate)) / rate
    f = 440.0 * 2 ** ((midi - 69) / 12)
    wave = np.sin(2 * np.pi * f * t) + 0.25 * np.sin(4 * np.pi * f * t)  # a little warmth (2nd harmonic)
    attack = np.minimum(1.0, t / 0.02)
    tone: NDArray[np.float64] = wave * attack * np.exp(-3.0 * t / seconds)  # plucked: quick rise, gentle decay
    return tone


@cache
def hold_music(rate: int) -> NDArray[np.int16]:
    """One loop of the music at ``rate`` (int16, mono); play it round and round."""
    beat = int(BEAT_S * rate)
    out = np.zeros(beat * 4 * len(CHORDS))
    for i, (bass, *triad) in enumerate(CHORDS):
        start = i * 4 * beat
        out[start:start + 4 * beat] += 0.8 * _tone(bass, 4 * BEAT_S, rate)
        for j, note in enumerate([*triad, triad[1]]):  # up the chord and back to its middle note
            out[start + j * beat:start + (j + 1) * beat] += 0.5 * _tone(note, BEAT_S, rate)
    fade = min(len(out), int(0.01 * rate))
    out[-fade:] *= np.linspace(1, 0, fade)  # no click where the loop starts again
    music: NDArray[np.int16] = (out / np.abs(out).max() * LEVEL * 32767).astype(np.int16)
    return music
