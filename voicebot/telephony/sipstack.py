"""One pjsua2 endpoint per process, driven from a single thread (the one that creates it).

Every signalling and DTMF callback runs on that thread (``mainThreadOnly``); other threads
hand it work through ``post``. Timers (ring timeouts) run there too, through ``call_later``.
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import itertools
import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pjsua2 as pj

from voicebot.telephony.media import PORT_MS, PortPool

log = logging.getLogger("voicebot.sip")
pjlog = logging.getLogger("voicebot.pjsip")

CODEC_PRIORITIES = {"PCMU/8000/1": 255, "PCMA/8000/1": 254, "L16/8000/1": 200}  # G.711 first, L16 if offered


@dataclass
class SipSettings:
    bind: str = "127.0.0.1"
    port: int = 5060
    media_bind: str | None = None  # RTP's address when it differs from SIP's (a cluster worker: SIP inside)
    tcp: bool = True
    max_calls: int = 4  # the pjsua2-python wheel is compiled with PJSUA_MAX_CALLS = 4
    user_agent: str = "voicebot"
    user: str = "95588"  # the user part of our own SIP address (a softphone: the caller's number)
    rtp_port: int = 0  # 0: a random even port per call (several workers share a machine)
    pj_log_level: int = 2  # pjsip errors and warnings, into our log


class SipStack:
    """The endpoint, its transports and one local account; ``poll`` runs its event loop."""

    def __init__(self, settings: SipSettings, endpoint: pj.Endpoint | None = None) -> None:
        self.settings = settings
        self.ep = endpoint or pj.Endpoint()  # a subclass may count what the stack rejects itself
        self._jobs: deque[Callable[[], None]] = deque()
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self.account: pj.Account | None = None
        self.ports = PortPool()  # conference ports, reused: see PortPool

    def start(self, account: pj.Account) -> None:
        """Create the library, listen on UDP (and TCP), attach ``account`` as the local identity."""
        s = self.settings
        with _quiet_stdout():  # pjlib prints its start-up lines before any log setting applies
            self.ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.uaConfig.maxCalls = s.max_calls
        cfg.uaConfig.userAgent = s.user_agent
        self._writer = _LogWriter()  # kept referenced: pjsua2 calls it from its own threads
        cfg.logConfig.writer = self._writer
        cfg.logConfig.level = s.pj_log_level
        cfg.logConfig.consoleLevel = s.pj_log_level
        cfg.logConfig.decor = 0
        cfg.medConfig.clockRate = 8000
        cfg.medConfig.sndClockRate = 8000
        cfg.medConfig.channelCount = 1
        cfg.medConfig.noVad = True
        cfg.medConfig.ecTailLen = 0
        cfg.medConfig.audioFramePtime = PORT_MS  # the bridge ticks once per port period (see media.py)
        self.ep.libInit(cfg)
        self._thread = threading.current_thread()
        tcfg = pj.TransportConfig()
        tcfg.port = s.port
        tcfg.boundAddress = s.bind
        self.ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
        if s.tcp:
            self.ep.transportCreate(pj.PJSIP_TRANSPORT_TCP, tcfg)
        self.ep.libStart()
        self.ep.audDevManager().setNullDev()
        for codec in self.ep.codecEnum2():
            self.ep.codecSetPriority(codec.codecId, CODEC_PRIORITIES.get(codec.codecId, 0))
        acfg = pj.AccountConfig()
        acfg.idUri = f"sip:{s.user}@{s.bind}" + (f":{s.port}" if s.port else "")
        acfg.mediaConfig.transportConfig.boundAddress = s.media_bind or s.bind
        acfg.mediaConfig.srtpUse = pj.PJMEDIA_SRTP_DISABLED
        if s.rtp_port:
            acfg.mediaConfig.transportConfig.port = s.rtp_port
        else:
            acfg.mediaConfig.transportConfig.port = 10000
            acfg.mediaConfig.transportConfig.portRange = 20000
            acfg.mediaConfig.transportConfig.randomizePort = True
        account.create(acfg, True)
        self.account = account
        log.info("sip listening on %s:%d (udp%s)", s.bind, s.port, "+tcp" if s.tcp else "")

    # -- work from other threads, timers --------------------------------------------------
    def post(self, job: Callable[[], None]) -> None:
        """Run ``job`` on the SIP thread at its next poll (safe from any thread)."""
        self._jobs.append(job)

    def call_later(self, delay_s: float, job: Callable[[], None]) -> None:
        """Run ``job`` on the SIP thread after ``delay_s`` (call from the SIP thread)."""
        heapq.heappush(self._timers, (time.monotonic() + delay_s, next(self._seq), job))

    def poll(self, ms: int = 10) -> None:
        """Handle SIP events for up to ``ms``, then posted jobs and due timers."""
        self.ep.libHandleEvents(ms)
        while self._jobs:
            _run(self._jobs.popleft())
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _run(heapq.heappop(self._timers)[2])

    def shutdown(self, drain_s: float = 0.5) -> None:
        """Hang up what is left, let the stack settle, destroy the library.

        Every Python ``Call`` must be unreferenced by the caller before this (a live one aborts
        the process in ``libDestroy``).
        """
        try:
            self.ep.hangupAllCalls()
        except pj.Error as exc:
            log.warning("hangup all: %s", exc.info())
        end = time.monotonic() + drain_s
        while time.monotonic() < end:
            self.poll(10)
        if self.account is not None:
            self.account.shutdown()
            self.account = None
        self.poll(10)
        self._jobs.clear()
        self._timers.clear()
        self.ports = PortPool()  # the old ones are left to C++ for good: never freed, never reused
        gc.collect()  # calls held only in reference cycles must die before the library does
        alive = sum(1 for o in gc.get_objects() if type(o).__name__.endswith("Call") and _is_call(o))
        if alive:  # pjsua2 would abort in libDestroy: say why in the log first
            log.warning("%d call object(s) still referenced at shutdown", alive)
        self.ep.libDestroy()


class _LogWriter(pj.LogWriter):
    """pjsip's own log lines go to the Python log (logger ``voicebot.pjsip``), not the terminal."""

    def write(self, entry: pj.LogEntry) -> None:
        try:
            pjlog.log(logging.WARNING if entry.level <= 2 else logging.DEBUG, "%s", entry.msg.rstrip())
        except Exception:
            pass


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def register_thread(name: str) -> None:
    """Let this thread touch pjsua2 objects (even just by freeing one): pjlib asserts on unknown threads."""
    try:
        ep = pj.Endpoint.instance()
        if not ep.libIsThreadRegistered():
            ep.libRegisterThread(name)
    except pj.Error as exc:
        log.warning("cannot register thread %s with pjlib: %s", name, exc.info())


class CollectOnLoop:
    """Cyclic garbage is freed on the SIP thread only.

    Python's collector runs on whichever thread happens to allocate; a pjsua2 object freed
    there (a port, a call in a reference cycle) calls pjlib from a thread it does not know,
    and pjlib aborts. So automatic collection is off and the SIP loop collects, young
    generations often, everything now and then; start-up objects are frozen out of the way.
    """

    def __init__(self, young_s: float = 0.5, full_s: float = 30.0) -> None:
        self.young_s, self.full_s = young_s, full_s
        self._young = self._full = time.monotonic()
        gc.collect()
        gc.freeze()
        gc.disable()

    def tick(self) -> None:
        now = time.monotonic()
        if now - self._full >= self.full_s:
            gc.collect()
            self._full = self._young = now
        elif now - self._young >= self.young_s:
            gc.collect(1)
            self._young = now


def _is_call(obj: object) -> bool:
    try:
        return isinstance(obj, pj.Call)
    except ReferenceError:  # a dead weak proxy
        return False


def _run(job: Callable[[], None]) -> None:
    try:
        job()
    except pj.Error as exc:
        log.warning("sip job failed: %s", exc.info())
    except Exception:
        log.exception("sip job failed")


def header_lines(msg: str) -> list[tuple[str, str]]:
    """Every header of a raw SIP message in order, as (lower-case name, value)."""
    found = []
    for line in msg.split("\r\n")[1:]:
        if not line:
            break
        key, sep, value = line.partition(":")
        if sep:
            found.append((key.strip().lower(), value.strip()))
    return found


def header(msg: str, name: str) -> str | None:
    """The value of SIP header ``name`` (case-insensitive, first occurrence) in a raw message."""
    want = name.lower()
    return next((value for key, value in header_lines(msg) if key == want), None)


def uri_user(uri: str) -> str:
    """The user part of a SIP URI in a header value: '"Bob" <sip:1234@host>;tag=x' -> '1234'."""
    inner = uri.split("<", 1)[1].split(">", 1)[0] if "<" in uri else uri.split(";", 1)[0]
    inner = inner.split(":", 1)[1] if ":" in inner else inner
    return inner.split("@", 1)[0] if "@" in inner else ""
