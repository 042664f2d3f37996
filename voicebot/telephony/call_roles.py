"""What the hand-over and the media watch need of a call and of the server, as interfaces.

``server.py`` builds on both; they take these instead of importing the server back, so the
telephony package has no import circle. ``BotCall`` and ``BotServer`` satisfy them.
"""

from __future__ import annotations

from concurrent.futures import Executor
from typing import Any, Protocol

import pjsua2 as pj

from voicebot.telephony.agents import AgentDirectory
from voicebot.telephony.metrics import Metrics


class TelephonyCall(Protocol):
    """A caller's SIP call as the server keeps it (a ``pj.Call``): its audio port and dialog runner."""

    id_text: str
    port: Any  # the call's audio port once media has started, else None
    agent_port: Any  # while bridged to an agent on a recorded call: the agent's audio, else None
    runner: Any  # the call's dialog runner (its session, engine and agent hooks)
    handover: Any  # its Handover, once the caller is being put through

    def hang(self) -> None: ...
    def gone(self, why: str) -> None: ...
    def xfer(self, dest: str, prm: pj.CallOpParam) -> None: ...


class WatchedCall(TelephonyCall, Protocol):
    """What the media watch reads and keeps on each call."""

    disconnected: bool
    answered_at: float
    media_index: int | None
    rx_packets: int
    rx_changed: float
    held_since: float | None
    held_before_s: float
    timed_out: bool
    hung_at: float

    def getStreamStat(self, med_idx: int) -> Any: ...
    def getInfo(self) -> Any: ...


class HandoverServer(Protocol):
    """The server, as a hand-over uses it."""

    agents: AgentDirectory
    account: pj.Account
    stack: Any  # posts work to the SIP thread (post, call_later)
    metrics: Metrics
    db_writes: Executor
    services: Any  # the bank among them

    def retire(self, leg: Any) -> None: ...
