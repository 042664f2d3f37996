"""The softphone's live mode: microphone and speaker through sounddevice (the wheel has no sound device)."""

from __future__ import annotations

import time

import numpy as np

from voicebot.channels.mic import KEYS, keyboard_keys, open_default_stream
from voicebot.telephony.media import FRAME_LEN, RATE
from voicebot.telephony.softphone import Softphone


def run_live(phone: Softphone, timeout_s: float, stream: object | None = None) -> None:
    """Talk through the default devices at 8 kHz; keys typed + Enter are DTMF, 'q' hangs up."""
    stream = stream or open_default_stream(rate=RATE, frame=FRAME_LEN)
    keys = keyboard_keys()
    played: list[np.ndarray] = []
    phone.sink = played.append
    phone.start()
    end = time.monotonic() + timeout_s
    with stream:
        while not phone.ended.is_set() and time.monotonic() < end:
            phone.poll()
            while not keys.empty():
                key = keys.get()
                if key == "hangup":
                    phone.hangup()
                elif key in KEYS:
                    phone.send_keys(key)
            if phone.port is None:
                continue
            data, _ = stream.read(FRAME_LEN)
            phone.play(np.asarray(data, dtype=np.int16).reshape(-1))
            out = played.pop(0) if played else np.zeros(FRAME_LEN, dtype=np.int16)
            stream.write(out.reshape(-1, 1))
            played[:] = played[-5:]  # never let the speaker fall behind the line
