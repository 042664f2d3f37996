"""Once a second, on the SIP thread: calls that hold a slot without audio are hung up.

Three ways a call can take a slot and give nothing: it is answered but its audio never starts
(an answer that disables the stream), its audio stops without a BYE (a BYE lost on the way, a
dead gateway), or the caller holds it (``sendonly``/``inactive``) and never comes back. Each
has its limit; a hold, which a real caller ends within minutes, has the longest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

import pjsua2 as pj

from voicebot.telephony.metrics import Metrics

if TYPE_CHECKING:
    from voicebot.telephony.call_roles import WatchedCall

log = logging.getLogger("voicebot.sip")

MEDIA_SETUP_S = 10.0  # an answered call whose audio has not started by then is hung up


class MediaWatch:
    def __init__(self, metrics: Metrics, timeout_s: float = 30.0, max_hold_s: float = 120.0) -> None:
        self.metrics = metrics
        self.timeout_s = timeout_s  # no RTP this long (0: never hang up for that)
        self.max_hold_s = max_hold_s  # held by the caller this long (0: no limit)
        self._next = 0.0

    def check(self, calls: Iterable[WatchedCall]) -> None:
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + 1.0
        for call in calls:
            if call.disconnected:
                continue
            if call.port is None:  # answered, but no audio ever started
                if now - call.answered_at > MEDIA_SETUP_S:
                    self._hang(call, f"no audio {MEDIA_SETUP_S:.0f} s after answering")
                continue
            if call.media_index is None:
                continue
            try:
                packets = call.getStreamStat(call.media_index).rtcp.rxStat.pkt
                held = any(mi.status == pj.PJSUA_CALL_MEDIA_REMOTE_HOLD for mi in call.getInfo().media)
            except pj.Error:  # the stream is gone (pjsua has dropped the call's media): no audio either
                packets, held = call.rx_packets, False
            if not held and call.held_since is not None:  # a hold ended: its time still counts
                call.held_before_s += now - call.held_since
            call.held_since = (call.held_since or now) if held else None
            with_agent = call.handover is not None and call.handover.bridged  # a hold there is the caller's own
            held_s = call.held_before_s + (now - call.held_since if held else 0.0)
            if held and self.max_hold_s and not with_agent and held_s > self.max_hold_s:
                # the limit is on the call's whole time on hold: taking it off hold now and then does not reset it
                self._hang(call, f"held by the caller for {held_s:.0f} s")
            elif packets != call.rx_packets or held:
                call.rx_packets, call.rx_changed = packets, now
            elif self.timeout_s and now - call.rx_changed >= self.timeout_s:
                self._hang(call, f"no audio from the caller for {now - call.rx_changed:.0f} s")

    def _hang(self, call: WatchedCall, why: str) -> None:
        if not call.timed_out:
            log.warning("call=%s %s: hanging up", call.id_text, why)
            self.metrics.inc("voicebot_media_timeouts_total")
            call.timed_out, call.hung_at = True, time.monotonic()
            call.hang()
        elif time.monotonic() - call.hung_at > MEDIA_SETUP_S:  # our BYE got no answer either
            call.gone("no audio and no answer to our BYE")
