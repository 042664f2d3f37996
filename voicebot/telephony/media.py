"""The bridge between pjsua2's conference clock and Python: 20 ms PCM frames in deques.

Frame callbacks run on the media clock thread, so they only move objects: a received buffer
is copied out of its C++ vector as Python bytes (see ``vector_bytes``), and a requested one
is whatever the call's thread queued, or silence.

The port's period (``PORT_MS``) is longer than the pipeline's 20 ms frame: the conference
bridge calls into Python (and wakes the call's thread) once per period. Each callback costs a
GIL hand-over between the clock thread and the call threads: at 20 ms the clock thread took a
fifth of a loaded worker's CPU, at 40 ms a sixth, for 20 ms more delay each way. The bridge's
own clock ticks at the same period (``SipStack``), buffering the calls' 20 ms RTP packets:
an idle worker then costs 0.45% of a core instead of 0.61 (README).
"""

from __future__ import annotations

import ctypes
import threading
from collections import deque

import numpy as np
import pjsua2 as pj

RATE = 8000
FRAME_MS = 20  # the frame the call's pipeline works in (VAD, DTMF, recognition, prompts)
FRAME_LEN = RATE * FRAME_MS // 1000
PORT_MS = 40  # how often pjsua2 calls a port's callbacks: a whole number of frames
_SILENCE = bytes(FRAME_LEN * 2)


def _vector_bytes_direct(vec: pj.ByteVector) -> bytes:
    # a std::vector starts with its begin and end pointers (libstdc++ and libc++ alike)
    begin, end = (ctypes.c_size_t * 2).from_address(int(vec.this))
    return ctypes.string_at(begin, end - begin) if end > begin else b""


def _vector_bytes_slow(vec: pj.ByteVector) -> bytes:
    return bytes(vec)  # SWIG iterates the vector in Python: ~0.5 ms for one 20 ms frame


def _direct_read_works() -> bool:
    try:
        probe = bytes(range(256)) * 2
        return _vector_bytes_direct(pj.ByteVector(probe)) == probe and _vector_bytes_direct(pj.ByteVector()) == b""
    except Exception:
        return False


# The bytes of a pj.ByteVector: read in place (~4 µs) where a self-check at import shows the
# layout is the expected one, else through SWIG's iterator (100x slower, holding the GIL: 2-3%
# of a core per call, for every call of the worker).
vector_bytes = _vector_bytes_direct if _direct_read_works() else _vector_bytes_slow


class FramePort(pj.AudioMediaPort):
    """A conference port: caller audio lands in ``received``, ``outgoing`` is played to the call."""

    def __init__(self, name: str, max_backlog_s: float = 5.0, port_ms: int = PORT_MS) -> None:
        super().__init__()
        if port_ms % FRAME_MS:
            raise ValueError(f"a port's period ({port_ms} ms) must be a whole number of {FRAME_MS} ms frames")
        self.frames_per_period = port_ms // FRAME_MS
        # a period's audio each (None: no audio came), the oldest dropped if stalled
        self.received: deque[bytes | None] = deque(maxlen=int(max_backlog_s * 1000 / port_ms))
        self.outgoing: deque[bytes] = deque(maxlen=int(max_backlog_s * 1000 / FRAME_MS))  # 20 ms frames
        self.recording: deque[bytes] = deque()  # a whole recording given to ``play``, sent after ``outgoing``
        self.wakeup: threading.Event | None = None  # set when a frame arrives (its call's thread waits on it)
        fmt = pj.MediaFormatAudio()
        fmt.type = pj.PJMEDIA_TYPE_AUDIO
        fmt.clockRate = RATE
        fmt.channelCount = 1
        fmt.bitsPerSample = 16
        fmt.frameTimeUsec = port_ms * 1000
        self.createPort(name, fmt)

    def onFrameReceived(self, frame: pj.MediaFrame) -> None:
        try:
            # frame.buf points into the frame, which dies with the callback: copied out here
            self.received.append(vector_bytes(frame.buf) if frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO else None)
            wakeup = self.wakeup
            if wakeup is not None:
                wakeup.set()
        except Exception:  # never let a traceback keep pjsua2 objects alive on the media thread
            pass

    def onFrameRequested(self, frame: pj.MediaFrame) -> None:
        try:
            data = b"".join([self._next_frame() for _ in range(self.frames_per_period)])
            frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
            frame.buf = pj.ByteVector(data)
            frame.size = len(data)
        except Exception:
            pass

    def _next_frame(self) -> bytes:
        return self.outgoing.popleft() if self.outgoing else (self.recording.popleft() if self.recording else _SILENCE)

    @property
    def backlog(self) -> int:
        """Received frames not yet taken."""
        return len(self.received) * self.frames_per_period

    def reset(self) -> None:
        """Forget queued audio both ways and who waits for it (the port is passing to another call)."""
        self.wakeup = None
        self.received.clear()
        self.outgoing.clear()
        self.recording.clear()

    def take(self) -> list[np.ndarray]:
        """Received audio as 20 ms int16 frames (a missing period reads as silence)."""
        out: list[np.ndarray] = []
        period = FRAME_LEN * self.frames_per_period
        while self.received:
            buf = self.received.popleft()
            pcm = np.frombuffer(buf, dtype=np.int16) if buf else None
            if pcm is None or len(pcm) != period:
                pcm = np.zeros(period, dtype=np.int16) if pcm is None else _fit(pcm, period)
            out += np.split(pcm, self.frames_per_period)
        return out

    def play(self, pcm: np.ndarray) -> None:
        """Queue a recording (any length: not bounded like ``outgoing``, whose oldest frames a long
        one would push out) for the call, cut into frames."""
        for start in range(0, len(pcm), FRAME_LEN):
            self.recording.append(_fit(pcm[start:start + FRAME_LEN]).tobytes())

    @property
    def sending(self) -> bool:
        return bool(self.outgoing or self.recording)


class PortPool:
    """Conference ports that live as long as the library: reused call after call, never freed.

    pjmedia removes a conference port asynchronously (on the media clock's next tick), but
    pjsua2 frees an ``AudioMediaPort`` as soon as its destructor has queued that removal; the
    clock thread may then call the freed port (seen as rare crashes at a call's end under
    load). So each port is handed to C++ once made (``__disown__``: no destructor ever runs)
    and goes back to the pool when its call is over. A worker makes at most one per call slot.
    """

    def __init__(self) -> None:
        self._idle: list[FramePort] = []

    def acquire(self, name: str) -> FramePort:
        """An idle port (queues emptied) or a new one; call on the SIP thread."""
        if self._idle:
            port = self._idle.pop()
        else:
            port = FramePort(name)
            port.__disown__()  # owned by C++ from now on: never destroyed under the media clock
        port.reset()
        return port

    def release(self, port: FramePort) -> None:
        """Take back a port whose call is over (pjsua has disconnected the call's stream from it)."""
        port.reset()
        if all(port is not idle for idle in self._idle):
            self._idle.append(port)


def _fit(pcm: np.ndarray, length: int = FRAME_LEN) -> np.ndarray:
    pcm = pcm.astype(np.int16, copy=False)
    if len(pcm) >= length:
        return pcm[:length]
    return np.pad(pcm, (0, length - len(pcm)))


def ringback(seconds: float, on_s: float = 1.0, off_s: float = 4.0, freq: float = 450.0) -> np.ndarray:
    """The ringing tone a Chinese caller hears (450 Hz, 1 s on, 4 s off), at 8 kHz."""
    t = np.arange(int(seconds * RATE)) / RATE
    tone = 0.2 * 32767 * np.sin(2 * np.pi * freq * t)
    tone[(t % (on_s + off_s)) >= on_s] = 0
    return tone.astype(np.int16)


def audio_media(call: pj.Call) -> pj.AudioMedia | None:
    """The call's active audio stream, or None (keep CallInfo alive while reading its media)."""
    ci = call.getInfo()
    for mi in ci.media:
        if mi.type == pj.PJMEDIA_TYPE_AUDIO and mi.status in (pj.PJSUA_CALL_MEDIA_ACTIVE,
                                                            pj.PJSUA_CALL_MEDIA_REMOTE_HOLD):
            return call.getAudioMedia(mi.index)
    return None
