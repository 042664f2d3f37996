"""Admission control: a worker serves the calls it admits well, and turns the rest away politely.

The line's limit is set from a measurement of this machine (``cluster/calibration.py``) or by
``[capacity] max_calls``. In a cluster the front door counts the calls in progress for the
whole line and marks an INVITE over the limit with ``X-Voicebot-Busy``; the worker that gets
it plays the busy message. A worker on its own counts its own calls. A caller over the limit
hears the busy message, "too many people are calling" (``busy = "message"``), or the INVITE is answered 486 or 503
with ``Retry-After`` (``busy = "486"`` / ``"503"``); when no call slot is left for the message,
the status answers instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from voicebot.telephony.sipstack import header

BUSY_HEADER = "X-Voicebot-Busy"  # set by the front door only (it strips X-Voicebot-* from outside)
BUSY_MODES = ("message", "486", "503")


@dataclass(frozen=True)
class CapacitySettings:
    """``[capacity]``: how many calls the line admits and what a caller over the limit gets."""

    max_calls: int = 0  # calls in progress the line admits; 0: measured at start (cluster) / every slot (a worker)
    busy: str = "message"  # message | 486 | 503
    retry_after_s: int = 60  # sent with 486/503: when a caller's phone may try again


@dataclass(frozen=True)
class Verdict:
    admit: bool  # a dialog call
    busy_message: bool = False  # answered, to hear the busy message
    status: int = 0  # else: refused with this status (and Retry-After)
    reason: str = ""


ADMIT = Verdict(True)


class Admission:
    """One worker's decisions, from its limit, its call slots and the front door's mark."""

    def __init__(self, settings: CapacitySettings, slots: int) -> None:
        self.settings = settings
        self.slots = slots
        self.limit = min(settings.max_calls, slots) if settings.max_calls > 0 else slots

    def decide(self, msg: str, admitted: int, busy_playing: int) -> Verdict:
        """What to do with the INVITE ``msg`` while ``admitted`` dialog calls and ``busy_playing``
        busy messages hold this worker's slots."""
        over = header(msg, BUSY_HEADER) is not None or admitted >= self.limit
        if not over:
            return ADMIT
        slot_free = admitted + busy_playing < self.slots
        if self.settings.busy == "message" and slot_free:
            return Verdict(False, busy_message=True, reason="line_full")
        status = 503 if self.settings.busy == "503" else 486
        return Verdict(False, status=status, reason="line_full")

    def retry_after(self) -> dict[str, str]:
        return {"Retry-After": str(self.settings.retry_after_s)}
