"""A caller the line cannot take now: a short spoken "too many people are calling", then the bot hangs up.

Admission control (``telephony/admission.py``, and the cluster's front door) decides; this
runner only plays the message. It has no dialog, no recogniser and no NLU: a refused call
costs the worker almost nothing, so calls in progress keep their replies fast. It writes a
CDR line of its own (outcome ``busy``) through the same ``notify("ended", record)`` as a call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from voicebot.dialog.context import CallRecord
from voicebot.telephony.media import FramePort
from voicebot.telephony.sipstack import register_thread

log = logging.getLogger("voicebot.sip")

WAKE_S = 0.1
MAX_S = 15.0  # a message never holds a call slot longer than this


class BusyRunner:
    """Plays ``message`` (8 kHz int16) once, asks the SIP thread to hang up, reports the record."""

    session = None  # no dialog: nothing for the wallboard or a hand-over to read

    def __init__(self, record: CallRecord, message: np.ndarray[Any, Any], port: FramePort,
                 notify: Callable[[str, Any], None]) -> None:
        self.record: CallRecord | None = record
        self.port = port
        self.notify = notify
        self._message = message
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"busy-{record.call_id[:8]}", daemon=True)

    def start(self) -> None:
        self.port.play(self._message)
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    # -- from the SIP thread: a refused caller presses keys or hangs up; no agents are involved --
    def key(self, digit: str) -> None:
        pass

    def hung_up(self) -> None:
        self._closed.set()

    def agent_ringing(self) -> None:
        pass

    def bridged(self) -> None:
        pass

    def agents_unavailable(self) -> None:
        pass

    def _run(self) -> None:
        register_thread(self._thread.name)
        waited = 0.0
        while not self._closed.wait(WAKE_S):
            self.port.received.clear()  # what the caller says is not heard: nothing to decode
            waited += WAKE_S
            if not self.port.sending or waited >= MAX_S:
                self.notify("hangup", None)  # the message played to its end: the bot hangs up
                break
        self._closed.wait(MAX_S)  # the BYE completes (or the caller was first)
        record = self.record
        if record is not None:
            from datetime import datetime

            record.ended_at = datetime.now().astimezone()
            log.info("call=%s busy message played: refused", record.call_id)
        self.notify("ended", record)
