"""Who is signed in to the console, and how hard it is to guess a password.

Sessions are random tokens kept in this process (a restart signs everyone out), ended after
``IDLE_S`` unused or ``MAX_AGE_S`` in all, and re-checked against the operators table every
``RECHECK_S`` (a removed operator, a new password or a new role takes effect then). Signing out
closes the session's sockets and streams too.

Sign-in attempts are counted *before* the password is checked, so trying passwords in
parallel is no cheaper than one after another: at most ``MAX_TRIES`` checks per name, and
``MAX_TRIES_PER_SOURCE`` per source address, in ``WINDOW_S``; every table is bounded. A name
locked by someone else's wrong passwords does not lock out its operator on a browser where they
signed in before: that browser holds a signed "known device" cookie for the name and has an
allowance of its own (OWASP's device-cookie scheme).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from voicebot.console.operators import SignedIn

IDLE_S = 30 * 60  # a session unused this long ends
MAX_AGE_S = 12 * 3600  # a session ends this long after sign-in, however busy (one shift)
RECHECK_S = 30.0  # how often a session's operator is read again (removed, new password, new role)
WINDOW_S = 300  # attempts are counted over this window
MAX_TRIES = 5  # password checks per name (or per known device) per window
MAX_TRIES_PER_SOURCE = 20  # password checks per source address per window, whatever the names
MAX_KEYS = 10_000  # names, devices and addresses remembered at most (oldest forgotten first)
DEVICE_DAYS = 90

Closer = Callable[[], Any]  # closes one socket or stream of a session


@dataclass
class _Live:
    who: SignedIn
    fingerprint: str  # of the password hash the operator signed in with
    started: float
    used: float
    checked: float
    closers: set[Closer] = field(default_factory=set)


class Sessions:
    """Signed-in operators by session token (in this process only)."""

    def __init__(self, lookup: Callable[[int], tuple[SignedIn, str] | None]) -> None:
        self.lookup = lookup  # operator id -> (operator as now, their password hash), or None once removed
        self.live: dict[str, _Live] = {}

    def start(self, who: SignedIn, password_hash: str) -> str:
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        self.live[token] = _Live(who, _fingerprint(password_hash), now, now, now)
        return token

    def get(self, token: str | None) -> SignedIn | None:
        entry = self.live.get(token or "")
        if entry is None:
            return None
        now = time.monotonic()
        if now - entry.used > IDLE_S or now - entry.started > MAX_AGE_S:
            self.end(token)
            return None
        if now - entry.checked > RECHECK_S:
            current = self.lookup(entry.who.id)
            if current is None or _fingerprint(current[1]) != entry.fingerprint:  # removed, or a new password
                self.end(token)
                return None
            entry.who, entry.checked = current[0], now  # a new role counts from now on
        entry.used = now
        return entry.who

    def hold(self, token: str | None, closer: Closer) -> Callable[[], None]:
        """Close ``closer`` when the session ends; returns the call that forgets it (the socket ended first)."""
        entry = self.live.get(token or "")
        if entry is not None:
            entry.closers.add(closer)
        return lambda: entry.closers.discard(closer) if entry is not None else None

    def alive(self, token: str | None) -> bool:
        """Whether a stream of this session (the wallboard's) may go on: not signed out, not past
        ``MAX_AGE_S``, operator unchanged. A stream is not use, and keeps no session from idling out;
        an open wallboard is not idle either, so idleness does not end it."""
        entry = self.live.get(token or "")
        if entry is None:
            return False
        used, entry.used = entry.used, time.monotonic()
        ok = self.get(token) is not None
        entry.used = used
        return ok

    def end(self, token: str | None) -> None:
        entry = self.live.pop(token or "", None)
        for close in list(entry.closers) if entry else ():
            close()


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


class _Window:
    """Attempt times per key over ``WINDOW_S``, for at most ``MAX_KEYS`` keys."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.times: OrderedDict[str, list[float]] = OrderedDict()

    def _recent(self, key: str, now: float) -> list[float]:
        kept = [t for t in self.times.get(key, ()) if now - t < WINDOW_S]
        if kept:
            self.times[key] = kept
            self.times.move_to_end(key)
        else:
            self.times.pop(key, None)
        return kept

    def full(self, key: str, now: float) -> bool:
        return len(self._recent(key, now)) >= self.limit

    def add(self, key: str, now: float) -> None:
        self.times.setdefault(key, []).append(now)
        self.times.move_to_end(key)
        while len(self.times) > MAX_KEYS:
            self.times.popitem(last=False)

    def forget(self, key: str) -> None:
        self.times.pop(key, None)


class SignInGuard:
    """Counts sign-in attempts per name, per known device and per source address."""

    def __init__(self, device_key: bytes) -> None:
        self.device_key = device_key
        self.names = _Window(MAX_TRIES)
        self.devices = _Window(MAX_TRIES)
        self.sources = _Window(MAX_TRIES_PER_SOURCE)

    def begin(self, name: str, source: str, device_cookie: str | None) -> str | None:
        """Count one attempt now, before the password is checked; the reason when it is refused."""
        now = time.monotonic()
        if self.sources.full(source, now):
            return "source"
        device = self.device_of(device_cookie, name)
        key, window = (device, self.devices) if device else (name, self.names)
        if window.full(key, now):
            return "name"
        self.sources.add(source, now)
        window.add(key, now)
        return None

    def succeeded(self, name: str, device_cookie: str | None) -> None:
        """The right password: this name's (or device's) count starts again."""
        device = self.device_of(device_cookie, name)
        (self.devices if device else self.names).forget(device or name)

    def device_cookie(self, name: str) -> str:
        """A cookie that marks this browser as one ``name`` signed in from."""
        nonce = secrets.token_urlsafe(12)
        expires = int(time.time()) + DEVICE_DAYS * 86400
        return f"{nonce}.{expires}.{self._mac(name, nonce, expires)}"

    def device_of(self, cookie: str | None, name: str) -> str | None:
        """The device's id if ``cookie`` is a valid, unexpired device cookie for ``name``."""
        try:
            nonce, expires, mac = (cookie or "").split(".")
            if int(expires) < time.time():
                return None
        except ValueError:
            return None
        return nonce if hmac.compare_digest(mac, self._mac(name, nonce, int(expires))) else None

    def _mac(self, name: str, nonce: str, expires: int) -> str:
        return hmac.new(self.device_key, f"{name}\n{nonce}\n{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def hold_socket(request: Any, ws: Any) -> Callable[[], None]:
    """Close the WebSocket ``ws`` when its request's session ends (sign-out, expiry, operator
    removed); returns the call that forgets it when the socket ends first."""
    return request.app["sessions"].hold(request["session"], lambda: asyncio.ensure_future(ws.close()))
