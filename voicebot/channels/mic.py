"""The microphone channel: the dialog on the default sound device (16 kHz), keyboard keys as DTMF.

It only moves frames between sounddevice and a ``VoiceSession``; ``stream`` can be any object
with sounddevice's ``read``/``write``, which is how tests drive it without a sound card.
"""

from __future__ import annotations

import queue
import sys
import threading
from typing import Any, Protocol

import numpy as np

from voicebot.channels.voice import VoiceSession

MIC_RATE = 16000
KEYS = set("0123456789*#")


class NoSoundDevice(RuntimeError):
    """No usable input/output device; the message says what to do."""


class AudioStream(Protocol):
    def read(self, frames: int) -> tuple[np.ndarray, bool]: ...
    def write(self, data: np.ndarray) -> Any: ...


def open_default_stream(rate: int = MIC_RATE, frame: int = 320) -> Any:
    """A duplex sounddevice stream on the default devices, or NoSoundDevice."""
    try:
        import sounddevice as sd

        devices = list(sd.query_devices())
        if not any(d["max_input_channels"] for d in devices) or not any(d["max_output_channels"] for d in devices):
            raise NoSoundDevice("no sound device found: voicebot mic needs a microphone and a speaker "
                                "(try 'voicebot chat' for text, or 'voicebot transcribe' for WAV files)")
        return sd.Stream(samplerate=rate, channels=1, dtype="int16", blocksize=frame)
    except NoSoundDevice:
        raise
    except Exception as exc:  # PortAudio's errors: no device, busy device, unsupported rate
        raise NoSoundDevice(f"the sound device cannot be opened: {exc}") from exc


def keyboard_keys(stream_in: Any = None) -> queue.Queue[str]:
    """Keys typed on the keyboard (one line at a time: '1', '6222...#', 'q' to hang up) as a queue."""
    keys: queue.Queue[str] = queue.Queue()

    def reader() -> None:
        for line in stream_in or sys.stdin:
            text = line.strip()
            if text.lower() in ("q", "quit"):
                keys.put("hangup")
                return
            for ch in text:
                if ch in KEYS:
                    keys.put(ch)
            keys.put("enter")  # a line ends an entry, as '#' does
        keys.put("hangup")

    threading.Thread(target=reader, daemon=True, name="keyboard").start()
    return keys


def run(session: VoiceSession, stream: AudioStream, keys: queue.Queue[str] | None = None,
        max_seconds: float | None = None) -> None:
    """Serve the call until the dialog ends, the caller quits, or ``max_seconds`` of audio have passed."""
    frame = session.frame_len
    frames_left = None if max_seconds is None else int(max_seconds * 1000 / session.settings.frame_ms)
    while not session.finished and frames_left != 0:
        if keys is not None:
            while not keys.empty():
                key = keys.get()
                if key == "hangup":
                    session.hang_up()
                    return
                if key == "enter":
                    session.end_entry()
                else:
                    session.key(key)
        data, _overflowed = stream.read(frame)
        stream.write(session.step(np.asarray(data, dtype=np.int16).reshape(-1)).reshape(-1, 1))
        if frames_left is not None:
            frames_left -= 1
