"""One call's dialog on its own thread: caller frames through a ``VoiceSession``, bot frames back.

The SIP thread never waits on recognition, NLU, the bank or TTS: it hands keys and call events
to the runner (``key``, ``hung_up``, ...) and receives requests back through ``notify`` (which
posts to the SIP thread): ``transfer`` when the dialog hands over to an agent, ``hangup`` when
it ends, ``ended`` with the finished call record.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from voicebot.channels.voice import VoiceSession
from voicebot.dialog.context import CallRecord
from voicebot.telephony.inband_dtmf import DtmfDetector
from voicebot.telephony.media import FRAME_LEN, FRAME_MS, FramePort, ringback
from voicebot.telephony.sipstack import register_thread

log = logging.getLogger("voicebot.sip")

_RINGBACK = ringback(5.0)
IDLE_WAKE_S = 0.05  # the call's thread wakes when a frame or a control arrives, else this often
MAX_QUEUED_SILENCE = 2  # frames


class CallRunner:
    """States: dialog -> (ringing -> bridged | dialog) -> closed."""

    def __init__(self, session: VoiceSession, port: FramePort, notify: Callable[[str, Any], None],
                 inband_dtmf: bool = False) -> None:
        self.session = session
        self.port = port
        self.notify = notify
        self.dtmf = DtmfDetector() if inband_dtmf else None
        self.state = "dialog"
        self.record: CallRecord | None = None
        self._controls: deque[tuple[str, Any]] = deque()
        self._wake = threading.Event()  # a received frame or a control: work for the call's thread
        port.wakeup = self._wake
        self._ring_pos = 0
        self._heard = 0
        self._turn_end: float | None = None
        self._behind_ms = 0
        self._asked_hangup = False
        self.agent_port: FramePort | None = None
        self._agent_frames: deque[np.ndarray] = deque()
        call_id = session.call_id
        self._thread = threading.Thread(target=self._run, name=f"call-{call_id[:8]}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    # -- from the SIP thread --------------------------------------------------------------
    def key(self, digit: str) -> None:
        self._post("key", digit)

    def hung_up(self) -> None:
        """The call is over (caller hung up, or the bot's hang-up completed)."""
        self._post("closed", None)

    def agent_ringing(self) -> None:
        self._post("ringing", None)

    def bridged(self, agent_port: FramePort | None = None) -> None:
        """Caller and agent talk; ``agent_port``: the agent's voice, when the call is recorded."""
        self._post("bridged", agent_port)

    @property
    def recorded(self) -> bool:
        """Something records this call's audio (its port keeps hearing the caller while bridged)."""
        return self.session.events.tapped

    def agents_unavailable(self) -> None:
        self._post("unavailable", None)

    def queued(self, place: int, wait_s: float) -> None:
        """Every agent pool was busy: the caller waits in the queue (hold music, a call-back by key)."""
        self._post("queued", (place, wait_s))

    def queue_news(self, place: int, wait_s: float, offer_again: bool) -> None:
        self._post("queue_news", (place, wait_s, offer_again))

    def agent_finished(self) -> None:
        """The agent hung up a bridged call: the caller is the bot's again (its survey)."""
        self._post("agent_finished", None)

    def _post(self, kind: str, value: Any) -> None:
        self._controls.append((kind, value))
        self._wake.set()

    # -- the call's thread ----------------------------------------------------------------
    def _run(self) -> None:
        register_thread(self._thread.name)
        try:
            while self.state != "closed":
                self._wake.wait(IDLE_WAKE_S)  # no polling: each port period (40 ms) of audio wakes it
                self._wake.clear()  # before taking frames: one arriving after take() wakes the next turn
                self._apply_controls()
                if self.state != "closed":
                    self._frames()
        except Exception:  # a bug here must still end the call and write its record
            log.exception("call=%s runner failed", self.session.call_id)
            self.session.mark_failed()
            self._close()
            self.notify("hangup", None)
        self.notify("ended", self.record)

    def _apply_controls(self) -> None:
        while self._controls and self.state != "closed":
            self._control(*self._controls.popleft())

    def _control(self, kind: str, value: Any) -> None:
        if kind == "key" and self.state == "dialog":
            self.session.key(value)
        elif kind == "closed":
            self._close()
        elif kind == "ringing" and self.state != "bridged" and not self.session.queued:
            self.state = "ringing"  # (a queued caller rung for again keeps hearing the hold music)
        elif kind == "bridged":
            self.session.queue_answered()
            self.state = "bridged"
            self.agent_port = value
            self.port.outgoing.clear()
        elif kind == "unavailable":
            self.state = "dialog"
            self.port.outgoing.clear()
            self.session.agents_unavailable()
        elif kind == "queued":
            self.state = "dialog"
            self.port.outgoing.clear()
            self.session.enter_queue(*value)
        elif kind == "queue_news" and self.state == "dialog":
            self.session.queue_news(*value)
        elif kind == "agent_finished" and self.state == "bridged":
            self.state, self.agent_port = "dialog", None
            self._agent_frames.clear()
            self.port.outgoing.clear()
            self.session.agent_finished()

    def _frames(self) -> None:
        frames = self.port.take()
        session = self.session
        for i, frame in enumerate(frames):
            # keys and hang-ups between frames: a call running behind (a stalled final result)
            # must not keep decoding audio of a caller who has already hung up
            self._apply_controls()
            if self.state == "closed":
                return
            if self.state == "dialog":
                if self.dtmf is not None:
                    key = self.dtmf.feed(frame)
                    if self.dtmf.tone_now:  # a key tone is not speech: the recogniser hears silence
                        frame = np.zeros_like(frame)
                    if key:
                        session.key(key)
                behind = len(frames) - 1 - i + self.port.backlog  # frames, before this step's work
                started = time.monotonic()
                out = session.step(frame)
                self._time_reply(out, started, behind)
                # Silence is only queued to keep the line fed: after a stall (a final result,
                # an NLU call) a backlog of silent frames would delay every later reply; and none
                # once the dialog is over, so the queue empties and the bot hangs up (below).
                if (len(self.port.outgoing) < MAX_QUEUED_SILENCE and not session.finished) or out.any():
                    self.port.outgoing.append(out.tobytes())
            elif self.state == "ringing":
                start = self._ring_pos % (len(_RINGBACK) - FRAME_LEN)
                ring = _RINGBACK[start:start + FRAME_LEN]
                self.port.outgoing.append(ring.tobytes())
                self._ring_pos += FRAME_LEN
                if session.events.tapped:
                    session.events.audio(frame, ring)
            elif session.events.tapped:  # on the way to an agent, or talking with one: the recording goes on
                agent = None
                if self.agent_port is not None:
                    self._agent_frames.extend(self.agent_port.take())
                    agent = self._agent_frames.popleft() if self._agent_frames else None
                session.events.audio(frame, None, agent)
        if self.state != "dialog" or not session.finished:
            return
        if session.transfer is not None:
            self.state = "transferring"  # the SIP thread dials; ringing/bridged/unavailable follow
            self.notify("transfer", session.transfer)
        elif not self._asked_hangup and not self.port.outgoing:
            self._asked_hangup = True  # goodbye played to the end: the bot hangs up
            self.notify("hangup", None)

    def _time_reply(self, out: np.ndarray, started: float, behind: int) -> None:
        """Latency from the end of a caller turn (the endpoint) to the first reply audio leaving us.

        Logged with how far the call's thread was behind real time when it found the endpoint
        (caller frames received but not yet decoded): the part of a slow reply spent before it.
        """
        if self.session.turns_heard != self._heard:
            self._heard = self.session.turns_heard
            self._turn_end = started  # the step that found the endpoint: its final result and NLU count
            self._behind_ms = behind * FRAME_MS
        if self._turn_end is not None and out.any():
            queued = len(self.port.outgoing) * FRAME_MS / 1000  # reply audio already waiting to go out
            latency = time.monotonic() - self._turn_end + queued
            self.session.reply_timed(latency * 1000, self._behind_ms)
            self._turn_end = None

    def _close(self) -> None:
        if self.state == "closed":
            return
        if not self.session.ended:
            self.session.hang_up()
        self.record = self.session.close()
        self.state = "closed"
