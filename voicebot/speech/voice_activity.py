"""Is the caller speaking, and how loud are they: the two questions asked of every 20 ms frame.

Speech is told from line noise by WebRTC's voice-activity detector (``webrtcvad-wheels``, a
GMM over sub-band energies made for telephone speech at 8 kHz), not by a level threshold: a
quiet caller at -45 dBFS is speech, steady hiss at -50 dBFS is not. The older adaptive energy
gate stays available (``detector="energy"``) so the speech bench can compare the two.

A caller's level is then brought to a common one before recognition: the gain is measured on
the first speech of a turn (and carried over from turn to turn within a call), so quiet and
loud callers reach the recogniser alike, and is held steady within a turn. A quiet caller's gain
lifts the line's hiss with their voice, so the audio the recogniser hears then goes through
WebRTC's noise suppression (``webrtc-noise-gain``), which learns the line's noise from the
silence kept before each turn. Only for such callers: on callers at a good level it cost more
than it gained.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from voicebot.speech.audio import dbfs, saturated_int16

TARGET_DBFS = -20.0  # speech level given to the recogniser
MAX_GAIN_DB, MIN_GAIN_DB = 30.0, -12.0
SILENCE_DBFS = -70.0  # below this nothing is speech, whatever the detector says (digital silence)
VAD_ABOVE_FLOOR_DB = 10.0  # and speech stands at least this far above the line's noise


class SpeechDetector:
    """Per-frame speech decisions: WebRTC's VAD, or the adaptive energy gate it replaced."""

    def __init__(self, rate: int, kind: str = "webrtc", aggressiveness: int = 2, min_dbfs: float = -45.0,
                 above_floor_db: float = 12.0) -> None:
        self.rate, self.kind = rate, kind
        self.min_dbfs, self.above_floor_db = min_dbfs, above_floor_db
        self.noise_floor = SILENCE_DBFS
        self._vad = None
        if kind == "webrtc":
            import webrtcvad

            if rate not in (8000, 16000, 32000, 48000):
                raise ValueError(f"WebRTC's VAD takes 8, 16, 32 or 48 kHz audio, not {rate} Hz")
            self._vad = webrtcvad.Vad(aggressiveness)
        elif kind != "energy":
            raise ValueError(f"speech detector must be webrtc or energy, not {kind!r}")

    def is_speech(self, frame: NDArray[Any], level: float, in_speech: bool) -> bool:
        """Whether this frame (10, 20 or 30 ms of int16) holds speech; ``level`` is its dBFS."""
        if self._vad is None:
            speech = level > max(self.min_dbfs, self.noise_floor + self.above_floor_db)
            if not in_speech and not speech:  # track the noise floor only while nobody speaks
                self.noise_floor = 0.95 * self.noise_floor + 0.05 * level
            return speech
        # The detector judges the spectrum, whatever the level. The line's noise floor, followed
        # only on frames it calls noise (quiet speech must not lift it), keeps it from starting
        # on noise it has not adapted to yet (hiss after digital silence, which is no floor).
        says = self._vad.is_speech(frame.astype(np.int16).tobytes(), self.rate)
        if not in_speech and not says:
            heard = max(level, SILENCE_DBFS)
            self.noise_floor += (0.3 if heard < self.noise_floor else 0.02) * (heard - self.noise_floor)
        return says and level > max(SILENCE_DBFS, self.noise_floor + VAD_ABOVE_FLOOR_DB)


class LevelNormaliser:
    """One gain per turn that brings the caller's speech to ``TARGET_DBFS``."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.level: float | None = None  # the caller's speech level so far (dBFS)
        self.gain = 1.0

    def measure(self, frames: list[NDArray[Any]]) -> None:
        """Set this turn's gain from its first frames (their louder half is the speech)."""
        if not self.enabled or not frames:
            return
        levels = sorted(dbfs(f) for f in frames)
        voiced = levels[len(levels) // 2:]
        energy = np.mean([10 ** (lv / 10) for lv in voiced])
        heard = 10 * np.log10(energy) if energy > 0 else SILENCE_DBFS
        self.level = heard if self.level is None else 0.5 * self.level + 0.5 * heard
        self.gain = 10 ** (float(np.clip(TARGET_DBFS - self.level, MIN_GAIN_DB, MAX_GAIN_DB)) / 20)

    @property
    def gain_db(self) -> float:
        return 20 * float(np.log10(self.gain))

    def apply(self, frame: NDArray[Any]) -> NDArray[Any]:
        if not self.enabled or self.gain == 1.0:
            return frame
        return saturated_int16(frame.astype(np.float32) * self.gain)


class NoiseSuppressor:
    """WebRTC's noise suppression on the 16 kHz audio given to the recogniser (``level`` 1-4).

    It works on 10 ms blocks and follows the call's noise from block to block; a frame's
    samples beyond whole blocks (not a 20 ms frame's) pass as they are."""

    BLOCK = 160  # 10 ms at 16 kHz

    def __init__(self, level: int) -> None:
        from webrtc_noise_gain import AudioProcessor

        self._processor = AudioProcessor(0, level)  # no automatic gain: the level is set per turn

    def __call__(self, pcm: NDArray[Any]) -> NDArray[Any]:
        whole = len(pcm) - len(pcm) % self.BLOCK
        blocks = [np.frombuffer(self._processor.Process10ms(pcm[i:i + self.BLOCK].tobytes()).audio, np.int16)
                  for i in range(0, whole, self.BLOCK)]
        return np.concatenate([*blocks, pcm[whole:]]) if blocks else pcm
