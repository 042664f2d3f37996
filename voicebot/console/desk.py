"""The agent desk: the console answers the agent pools' SIP address and offers each call to the
agents signed in to that pool, with the screen pop of the seed's CTI.

The SIP side is a ``voicebot agent --desk`` process on each pool address the console serves
(``SeatProcess``): it rings when the bot hands a caller over and answers, declines or hangs up
when told. ``Desk`` is the pool logic, on the console's event loop: a call is offered to every
available agent of its pool; the first to accept takes it; if nobody is available, or all of
them decline, the seat declines at once and the bot's overflow rule moves on (as it does when
nobody accepts within 3 rings). The bot records the time to answer per pool, as for any seat.
"""

from __future__ import annotations

import asyncio
import json
import logging
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from voicebot.telephony.agents import AgentDirectory

log = logging.getLogger("voicebot.console")

POP_TRIES = 10  # x 100 ms: how long a ringing call waits for the context the worker is still writing
Notify = Callable[[str, dict[str, Any]], None]  # (agent name, message) -> pushed to that agent's pages


class SeatLink(Protocol):
    """One SIP seat of the desk: the pools at its address (by user part) and its command line."""

    pools: dict[str, str]
    address: str

    def send(self, cmd: dict[str, Any]) -> None: ...


@dataclass
class DeskAgent:
    name: str
    pool: str | None = None
    available: bool = False
    call: str | None = None  # the seat call this agent took
    pools: frozenset[str] | None = None  # the pools this agent may work in (None: every pool)


@dataclass
class Offer:
    call: str
    pool: str
    pop: dict[str, Any]
    rang_at: float = field(default_factory=time.monotonic)
    candidates: set[str] = field(default_factory=set)  # available agents it is offered to
    seat: SeatLink | None = None  # the seat it rings on
    taken_by: str | None = None
    connected: bool = False


@dataclass
class PoolStats:
    offered: int = 0
    answered: int = 0
    answer_s: list[float] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        rate = round(100 * self.answered / self.offered) if self.offered else None
        median = round(statistics.median(self.answer_s), 1) if self.answer_s else None
        return {"offered": self.offered, "answered": self.answered, "answer_rate": rate, "median_answer_s": median}


def pool_addresses(directory: AgentDirectory) -> dict[tuple[str, int], dict[str, str]]:
    """Each SIP address (host, port) the pools ring, with the pools there by user part."""
    found: dict[tuple[str, int], dict[str, str]] = {}
    pools = [directory.central, *(seats.pool for seats in directory.regions.values() if seats.pool)]
    for pool in pools:
        parts = urlsplit(pool.uri.replace("sip:", "sip://", 1))
        found.setdefault((parts.hostname or "127.0.0.1", parts.port or 5060), {})[parts.username or ""] = pool.name
    return found


class Desk:
    """Agents, their pools and the calls offered to them. Runs on one event loop, no locks."""

    def __init__(self, pools: list[str], notify: Notify) -> None:
        self.notify = notify
        self.agents: dict[str, DeskAgent] = {}
        self.offers: dict[str, Offer] = {}
        self.stats = {name: PoolStats() for name in pools}
        self.seats: dict[str, str] = {}  # seat address -> starting | ready | what went wrong

    # -- agents ---------------------------------------------------------------------------
    def state_of(self, name: str) -> dict[str, Any]:
        me = self.agents.get(name) or DeskAgent(name)
        mine = [pool for pool in self.stats if me.pools is None or pool in me.pools]
        return {"type": "state", "pool": me.pool, "available": me.available, "call": me.call,
                "pools": mine, "seats": self.seats,
                "stats": {pool: s.to_json() for pool, s in self.stats.items() if pool in mine}}

    def assign(self, name: str, pools: frozenset[str] | None) -> None:
        """The pools ``name`` may work in (from their operator record); leaving any other at once."""
        me = self.agents.setdefault(name, DeskAgent(name))
        me.pools = pools
        if me.pool is not None and pools is not None and me.pool not in pools:
            self.set_status(name, None, False)

    def set_status(self, name: str, pool: str | None, available: bool) -> None:
        me = self.agents.setdefault(name, DeskAgent(name))
        if pool not in self.stats or (me.pools is not None and pool not in me.pools):
            available = False  # no such pool here, or not one this agent is assigned to
        me.pool, me.available = pool, available
        log.info("desk: agent %s %s in pool %s", name, "available" if available else "away", pool)
        if not available:
            self._withdraw_from(name)
        else:
            for offer in self.offers.values():  # a call already ringing there is offered now too
                if offer.pool == pool and offer.taken_by is None and me.call is None:
                    offer.candidates.add(name)
                    self.notify(name, self._offer_message(offer))
        self.notify(name, self.state_of(name))

    def leave(self, name: str) -> None:
        """The agent's last page closed: away (a call they took goes on on the seat)."""
        if name in self.agents:
            self.agents[name].available = False
            self._withdraw_from(name)

    def accept(self, name: str, call: str) -> None:
        offer, me = self.offers.get(call), self.agents.get(name)
        if offer is None or me is None or name not in offer.candidates or offer.taken_by is not None:
            self.notify(name, {"type": "withdrawn", "call": call, "why": "taken or gone"})
            return
        offer.taken_by, me.call = name, call
        offer.seat.send({"do": "accept", "call": call})
        for other in offer.candidates - {name}:
            self.notify(other, {"type": "withdrawn", "call": call, "why": f"taken by {name}"})
        self.notify(name, self.state_of(name))

    def decline(self, name: str, call: str) -> None:
        offer = self.offers.get(call)
        if offer is None or offer.taken_by is not None:
            return
        offer.candidates.discard(name)
        self.notify(name, {"type": "withdrawn", "call": call, "why": "declined"})
        if not offer.candidates:
            offer.seat.send({"do": "decline", "call": call, "status": 486})

    def hang_up(self, name: str, call: str) -> None:
        offer = self.offers.get(call)
        if offer is not None and offer.taken_by == name:
            offer.seat.send({"do": "hangup", "call": call})

    # -- the seat's events -----------------------------------------------------------------
    def seat_event(self, seat: SeatLink, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "ready":
            self.seats[seat.address] = "ready"
        elif kind == "incoming":
            self._incoming(seat, event)
        elif kind == "answered":
            self._answered(str(event.get("call")))
        elif kind == "ended":
            self._ended(str(event.get("call")))
        else:
            return
        for name in self.agents:  # pool figures and seat states changed
            self.notify(name, self.state_of(name))

    def _incoming(self, seat: SeatLink, event: dict[str, Any]) -> None:
        call, pool = str(event.get("call_id")), seat.pools.get(str(event.get("to")))
        if pool is None:
            log.warning("desk: a call for %r, which is no pool of this console: declined", event.get("to"))
            seat.send({"do": "decline", "call": call, "status": 404})
            return
        self.stats[pool].offered += 1
        offer = Offer(call, pool, self._pop(event), seat=seat)
        offer.candidates = {a.name for a in self.agents.values() if a.available and a.pool == pool and not a.call}
        if not offer.candidates:
            log.info("desk: call %s for pool %s: no agent available, declined (the bot overflows)", call, pool)
            seat.send({"do": "decline", "call": call, "status": 480})
            return
        self.offers[call] = offer
        log.info("desk: call %s for pool %s offered to %s", call, pool, ", ".join(sorted(offer.candidates)))
        for name in offer.candidates:
            self.notify(name, self._offer_message(offer))

    def _answered(self, call: str) -> None:
        offer = self.offers.get(call)
        if offer is None or offer.taken_by is None:
            return
        offer.connected = True
        stats = self.stats[offer.pool]
        stats.answered += 1
        stats.answer_s.append(time.monotonic() - offer.rang_at)
        self.notify(offer.taken_by, {"type": "connected", "call": call})

    def _ended(self, call: str) -> None:
        offer = self.offers.pop(call, None)
        if offer is None:
            return
        if offer.taken_by is not None and offer.taken_by in self.agents:
            self.agents[offer.taken_by].call = None
            self.notify(offer.taken_by, {"type": "ended", "call": call})
            self.notify(offer.taken_by, self.state_of(offer.taken_by))
        for name in offer.candidates - {offer.taken_by}:
            self.notify(name, {"type": "withdrawn", "call": call, "why": "the caller was put through elsewhere "
                                                                         "or hung up"})

    # -- helpers -----------------------------------------------------------------------------
    def _withdraw_from(self, name: str) -> None:
        for offer in list(self.offers.values()):
            if offer.taken_by is None and name in offer.candidates:
                self.decline(name, offer.call)

    def _pop(self, event: dict[str, Any]) -> dict[str, Any]:
        """The screen pop: the bot's saved context when the headers are the bot's, else only a warning."""
        headers: dict[str, str] = event.get("headers") or {}
        trust = str(event.get("context"))
        pop: dict[str, Any] = {"trust": trust, "from": event.get("from")}
        if trust == "forged":
            pop["warning"] = ("The call's context is not the bot's (its signature is missing, wrong, expired or for "
                              "another pool): treat the caller as unidentified.")
            return pop
        pop.update({"reason": headers.get("X-Voicebot-Reason"), "service": headers.get("X-Voicebot-Service"),
                    "language": headers.get("X-Voicebot-Language"), "region": headers.get("X-Voicebot-Region"),
                    "customer": headers.get("X-Voicebot-Customer")})
        saved = event.get("saved")  # what the bot saved under the signed token (SeatProcess takes it)
        if saved and trust == "verified":
            pop.update({k: v for k, v in saved.items() if v is not None})
        return pop

    def _offer_message(self, offer: Offer) -> dict[str, Any]:
        return {"type": "offer", "call": offer.call, "pool": offer.pool,
                "ringing_s": round(time.monotonic() - offer.rang_at, 1), **offer.pop}


def bound_to_pool(event: dict[str, Any], pools: dict[str, str]) -> str | None:
    """The pool a seat's incoming call rings, and its trust narrowed to that pool: headers signed
    for another pool (a context replayed elsewhere) count as forged."""
    pool = pools.get(str(event.get("to")))
    if event.get("context") == "verified" and (event.get("headers") or {}).get("X-Voicebot-Pool") != pool:
        event["context"] = "forged"
    return pool


LoadPop = Callable[[str, str, str], "dict[str, Any] | None"]  # (token, pool, caller's call id) -> context, once


class SeatProcess:
    """``voicebot agent --desk`` on one pool address: its events go to the desk, commands to it.

    A ringing call's saved context is taken (``load_pop``) only when the seat found the bot's
    signature on the headers, for the pool it rings; off the event loop, on the console's own
    small pool, and waited for briefly: the worker writes it in the background as it starts ringing.
    """

    def __init__(self, host: str, port: int, pools: dict[str, str], desk: Desk, load_pop: LoadPop,
                 config: str | None = None, executor: Any = None) -> None:
        self.host, self.port, self.pools, self.desk, self.load_pop = host, port, pools, desk, load_pop
        self.config, self.executor = config, executor
        self.address = f"{host}:{port}"
        desk.seats[self.address] = "starting"
        self.proc: asyncio.subprocess.Process | None = None
        self.reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        config = ["--config", self.config] if self.config else []  # the seat checks with the same secret
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "voicebot", *config, "agent", "--desk", "--jsonl", "--bind", self.host,
            "--sip-port", str(self.port), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        self.reader = asyncio.create_task(self._read())

    def send(self, cmd: dict[str, Any]) -> None:
        if self.proc is not None and self.proc.stdin is not None and self.proc.returncode is None:
            self.proc.stdin.write((json.dumps(cmd) + "\n").encode())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        async for raw in self.proc.stdout:
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            if event.get("event") == "error":
                log.warning("desk seat %s:%s: %s", self.host, self.port, event.get("error"))
            if event.get("event") == "incoming":
                pool, headers = bound_to_pool(event, self.pools), event.get("headers") or {}
                token = headers.get("X-Voicebot-Context")
                if token and pool and event.get("context") == "verified":
                    event["saved"] = await self._saved(token, pool, headers.get("X-Voicebot-Call-Id", ""))
            self.desk.seat_event(self, event)
        code = await self.proc.wait()
        self.desk.seats[self.address] = f"stopped (exit {code}): see the log"
        log.error("desk: the SIP seat on %s stopped (exit %s)", self.address, code)

    async def _saved(self, token: str, pool: str, call_id: str) -> dict[str, Any] | None:
        loop = asyncio.get_running_loop()
        for _ in range(POP_TRIES):
            saved = await loop.run_in_executor(self.executor, self.load_pop, token, pool, call_id)
            if saved is not None:
                return saved
            await asyncio.sleep(0.1)
        log.warning("desk: no saved context for a ringing call: the pop shows its headers only")
        return None

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.stdin.close()  # the seat stops at the end of its commands
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
        if self.reader is not None:
            self.reader.cancel()
