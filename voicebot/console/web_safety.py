"""What every console request must pass before any handler runs, and the headers every answer carries.

- **Host allow-list** (against DNS rebinding): the ``Host`` a request names must be one the
  console is reached by: the loopback names, the address it is bound to, and ``[console] hosts``
  (the names a TLS proxy serves it under). Anything else gets 421 and no session, page or socket.
- **Origin**: a state-changing request (any method but GET and HEAD, sign-in and sign-out
  included) and every socket must come from a page of an allowed host, the request's own.
- **Where sign-in leads**: only a same-origin path, checked on exactly the text sent back.
- **Headers**: no framing, no sniffing, the referrer only to this site, nothing but static files cached.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# a path of this site and its query, in characters that no client or library rewrites
_LOCAL_TARGET = re.compile(r"/(?![/\\])[A-Za-z0-9._~\-/]*(\?[A-Za-z0-9._~\-=&%]*)?")
HEADERS = {"X-Frame-Options": "DENY", "Content-Security-Policy": "frame-ancestors 'none'",
           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}  # no-referrer would send Origin: null


@dataclass(frozen=True)
class Access:
    """Who may reach this console, and how: its host names and whether the demo operator may sign in."""

    hosts: frozenset[str] = LOOPBACK_NAMES
    demo_operator: bool = True  # only in the demo set-up: bound to loopback, no public names
    device_key: bytes = b""  # signs "known device" cookies (see signin); random when empty

    @classmethod
    def for_binding(cls, bind: str, names: list[str], device_key: bytes = b"") -> Access:
        """The loopback names, the bound address (unless a wildcard) and the configured names."""
        hosts = set(LOOPBACK_NAMES) | {host_name(n) for n in names if n.strip()}  # 'name:8443' counts as 'name'
        if bind not in ("0.0.0.0", "::", ""):
            hosts.add(host_name(bind))
        demo = bind.strip("[]") in LOOPBACK_NAMES and not names
        return cls(frozenset(hosts), demo, device_key)


def host_name(value: str) -> str:
    """'Example.com:8080' -> 'example.com'; '[::1]:8080' -> '::1'; '' for what is no host."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[1:end] if end > 0 else ""
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def allowed_host(request: web.Request) -> bool:
    access: Access = request.app["access"]
    return host_name(request.headers.get("Host", "")) in access.hosts


def same_origin(request: web.Request) -> None:
    """Refuse a socket or a change asked by another site's page (it would act with this operator's
    session): its Origin (else Referer), when the browser sends one, must be this very host."""
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if not origin:
        return  # not a browser acting for a page: nothing to forge with
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or parts.netloc.lower() != request.headers.get("Host", "").lower():
        raise web.HTTPForbidden(text="cross-origin request refused")


def local_target(value: str, fallback: str = "/phone") -> str:
    """``value`` if it is a path of this site made only of characters sent as they are, else ``fallback``."""
    return value if _LOCAL_TARGET.fullmatch(value) else fallback


@web.middleware
async def guard_requests(request: web.Request, handler: Any) -> web.StreamResponse:
    """First of all middlewares: the Host allow-list, then Origin on anything that changes state."""
    if not allowed_host(request):
        raise web.HTTPMisdirectedRequest(text="this console does not answer to that host name")
    if request.method not in _SAFE_METHODS:
        same_origin(request)
    return await handler(request)


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: every answer, errors and redirects included."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.path.startswith("/static/"):
        response.headers.setdefault("Cache-Control", "no-store")
