"""Human agent pools: one per region plus the central (head-office) pool, and who gets a call.

The seed's rule: a regional seat that does not answer within 3 rings overflows to the central
pool. Regions may host their seats centrally altogether, or only outside their hours (nights
and weekends). Pure logic: the SIP side asks ``route`` for the order of pools to ring.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^\s*(\w{3})(?:-(\w{3}))?\s+(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})\s*$")


class AgentConfigError(ValueError):
    """The [agents] configuration cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class Hours:
    """Opening hours such as 'Mon-Fri 08:00-20:00' (end 24:00 = midnight)."""

    days: frozenset[int]
    start: time
    end_minutes: int

    @classmethod
    def parse(cls, text: str) -> Hours:
        m = _HOURS.match(text.lower())
        if not m or m.group(1) not in DAYS or (m.group(2) and m.group(2) not in DAYS):
            raise AgentConfigError(f"agent hours must look like 'Mon-Fri 08:00-20:00', not {text!r}")
        first = DAYS.index(m.group(1))
        last = DAYS.index(m.group(2)) if m.group(2) else first
        days = frozenset(range(first, last + 1)) if first <= last else frozenset([*range(first, 7), *range(last + 1)])
        start = time(int(m.group(3)), int(m.group(4)))
        end = int(m.group(5)) * 60 + int(m.group(6))
        if end > 24 * 60 or end <= start.hour * 60 + start.minute:
            raise AgentConfigError(f"agent hours must end after they start, within the day: {text!r}")
        return cls(days, start, end)

    def open_at(self, when: datetime) -> bool:
        minute = when.hour * 60 + when.minute
        return when.weekday() in self.days and self.start.hour * 60 + self.start.minute <= minute < self.end_minutes


@dataclass(frozen=True)
class Pool:
    name: str  # "010", "central"
    uri: str


@dataclass(frozen=True)
class RegionSeats:
    pool: Pool | None  # None: the region's agents are hosted centrally
    hours: tuple[Hours, ...] = ()  # empty: always open


@dataclass(frozen=True)
class QueueSettings:
    """``[agents.queue]``: callers wait here when every pool of their hand-over is busy (bridge mode)."""

    enabled: bool = True
    announce_s: float = 45.0  # the caller's place and wait are said again this often
    retry_s: float = 20.0  # the caller first in the queue has the pools rung again this often
    max_wait_s: float = 300.0  # after this long (and every time again) the call-back is offered again
    per_caller_s: float = 120.0  # the expected wait per caller ahead, and for the caller's own turn


@dataclass
class AgentDirectory:
    """Where agent calls go, how long a seat may ring, and whether the bot bridges or refers."""

    central: Pool
    regions: dict[str, RegionSeats] = field(default_factory=dict)
    mode: str = "bridge"  # bridge | refer
    ring_s: float = 5.0  # one ring cadence: 1 s on, 4 s off
    rings: int = 3
    region_uri: str = "sip:agents-{region}@127.0.0.1"  # seats of regions the table does not list
    context_secret: str | None = None  # signs the call context agents receive (see agent_context)
    queue: QueueSettings = field(default_factory=QueueSettings)

    @property
    def ring_timeout_s(self) -> float:
        return self.ring_s * self.rings

    def route(self, region: str, when: datetime | None = None) -> list[Pool]:
        """Pools to try in order: the region's own seats if it keeps them and they are open, then central."""
        when = when or datetime.now()
        seats = self.regions.get(region) or RegionSeats(Pool(region, self.region_uri.format(region=region, reason="")))
        if seats.pool is None:
            return [self.central]
        if seats.hours and not any(h.open_at(when) for h in seats.hours):
            return [self.central]
        return [seats.pool, self.central]

    def first_target(self, region: str) -> str:
        return self.route(region)[0].uri

    @classmethod
    def from_config(cls, data: dict[str, Any], fallback_uri: str) -> AgentDirectory:
        """Build from the [agents] table; regions it does not list ring ``fallback_uri`` (a template)."""
        central = Pool("central", data.get("central", fallback_uri.format(region="central", reason="")))
        mode = data.get("mode", "bridge")
        if mode not in ("bridge", "refer"):
            raise AgentConfigError(f"agents.mode must be bridge or refer, not {mode!r}")
        regions: dict[str, RegionSeats] = {}
        for code, spec in data.get("regions", {}).items():
            hours = spec.get("hours", [])
            hours = [hours] if isinstance(hours, str) else hours
            pool = None if spec.get("hosted_centrally", False) else Pool(code, spec.get(
                "uri", fallback_uri.format(region=code, reason="")))
            regions[str(code)] = RegionSeats(pool, tuple(Hours.parse(h) for h in hours))
        ring_s, rings = float(data.get("ring_s", 5.0)), int(data.get("rings", 3))
        if ring_s <= 0 or rings < 1:
            raise AgentConfigError("agents.ring_s must be positive and agents.rings at least 1")
        secret = os.environ.get("VOICEBOT_AGENT_SECRET") or data.get("context_secret") or None
        q = data.get("queue", {})
        try:
            queue = QueueSettings(bool(q.get("enabled", True)), *(float(q.get(k, getattr(QueueSettings, k))) for k in
                                  ("announce_s", "retry_s", "max_wait_s", "per_caller_s")))
        except (TypeError, ValueError) as exc:
            raise AgentConfigError(f"agents.queue: {exc}") from exc
        if min(queue.announce_s, queue.retry_s, queue.max_wait_s, queue.per_caller_s) <= 0:
            raise AgentConfigError("agents.queue times must be positive")
        return cls(central, regions, mode, ring_s, rings, fallback_uri, secret, queue)
