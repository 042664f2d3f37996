"""A caller waiting in the agent queue (bridge mode): the hand-over's part once every pool was busy.

The caller hears hold music with their place and expected wait at ``announce_s`` intervals;
whenever they are first in the queue the pools are rung again every ``retry_s`` (the caller
keeps hearing the music, not ringback); after ``max_wait_s`` (and every ``max_wait_s`` more) the
call-back is offered again. Pressing 1 at any time books a call-back (``dialog.queue``). All of
it runs on the SIP thread; the place is read on the worker's database thread (``agent_queue``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from voicebot.telephony.agent_queue import expected_wait_s, place_in_queue
from voicebot.telephony.agents import AgentDirectory

log = logging.getLogger("voicebot.sip")


class WaitingHandover(Protocol):
    """What the queue needs of the hand-over it belongs to (``Handover``; no import back)."""

    queue: Any
    done: bool
    call: Any
    directory: AgentDirectory
    server: Any

    def ring_again(self) -> None: ...


class QueueWait:
    def __init__(self, handover: WaitingHandover) -> None:
        self.handover = handover
        self.settings = handover.directory.queue
        self.joined, self.since = time.monotonic(), datetime.now()
        self.offered_at = self.joined  # the call-back was last offered (on joining: with the place)

    @property
    def waited_s(self) -> float:
        return time.monotonic() - self.joined

    @property
    def active(self) -> bool:
        h = self.handover
        return h.queue is self and not h.done and h.call is not None and not h.call.disconnected

    def start(self) -> None:
        log.info("call=%s every agent pool busy: the caller waits in the queue", self.handover.call.id_text)
        self._with_place(lambda place, wait: self.handover.call.runner.queued(place, wait))
        stack = self.handover.server.stack
        stack.call_later(self.settings.announce_s, self._announce)
        stack.call_later(self.settings.retry_s, self._retry)

    def _with_place(self, then: Callable[[int, float], None]) -> None:
        """``then(place, expected wait)`` on the SIP thread, the place read on the database thread."""
        h = self.handover
        db = getattr(h.server.services.bank, "engine", None)
        call_id = h.call.id_text

        def read() -> None:
            place = place_in_queue(db, call_id, self.since)
            h.server.stack.post(lambda: then(place, expected_wait_s(place, self.settings)) if self.active else None)

        h.server.db_writes.submit(read)

    def _announce(self) -> None:
        if not self.active:
            return
        again = time.monotonic() - self.offered_at >= self.settings.max_wait_s
        if again:
            self.offered_at = time.monotonic()
        self._with_place(lambda place, wait: self.handover.call.runner.queue_news(place, wait, again))
        self.handover.server.stack.call_later(self.settings.announce_s, self._announce)

    def _retry(self) -> None:
        if not self.active:
            return
        self._with_place(lambda place, _wait: self.handover.ring_again() if place == 1 else None)
        self.handover.server.stack.call_later(self.settings.retry_s, self._retry)
