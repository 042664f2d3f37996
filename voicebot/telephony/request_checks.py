"""What a worker refuses in an INVITE before it becomes a call (RFC 3261 section 8.2, the
RFC 4475 torture cases pjsip lets through): the front door's sanity check catches these first,
a lone worker (or one reached from inside) answers them itself.

- a CSeq method other than the request's, a Content-Length given twice or not matching the
  body (UDP): 400 Bad Request;
- a ``Require`` of an extension this line does not support: 420 Bad Extension, naming it in
  ``Unsupported``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pjsua2 as pj

from voicebot.telephony.sipstack import header_lines

log = logging.getLogger("voicebot.sip")

SUPPORTED = frozenset({"100rel", "timer", "replaces", "norefersub"})  # pjsua's own Supported list
_CONTENT_LENGTH = ("content-length", "l")
_REQUIRE = "require"


@dataclass(frozen=True)
class Refusal:
    status: int
    reason: str
    headers: dict[str, str] = field(default_factory=dict)


def refusal(msg: str) -> Refusal | None:
    """Why the raw request ``msg`` must be refused, or None when it is well-formed enough to answer."""
    method = msg.split(" ", 1)[0]
    headers = header_lines(msg)
    cseq = [v for n, v in headers if n == "cseq"]
    if len(cseq) != 1 or cseq[0].split()[-1:] != [method]:
        return Refusal(400, "CSeq method does not match the request")
    lengths = [v for n, v in headers if n in _CONTENT_LENGTH]
    if len(lengths) > 1:
        return Refusal(400, "Content-Length given more than once")
    body = msg.split("\r\n\r\n", 1)[1] if "\r\n\r\n" in msg else ""
    if lengths and (not lengths[0].isdigit() or int(lengths[0]) != len(body.encode("utf-8", "surrogateescape"))):
        return Refusal(400, "Content-Length does not match the body")
    required = {opt.strip().lower() for n, v in headers if n == _REQUIRE for opt in v.split(",") if opt.strip()}
    if unknown := sorted(required - SUPPORTED):
        return Refusal(420, "Bad Extension", {"Unsupported": ", ".join(unknown)})
    return None


def refuse(call: Any, refused: Refusal, what: str, why: str = "malformed INVITE") -> None:
    """Answer the incoming ``call`` with ``refused`` (its status, reason and headers), logged as ``what``."""
    log.log(logging.WARNING if why == "malformed INVITE" else logging.INFO, "%s: %s refused with %s %s", what, why,
            refused.status, refused.reason)
    op = pj.CallOpParam()
    op.statusCode, op.reason = refused.status, refused.reason
    for name, value in refused.headers.items():
        h = pj.SipHeader()
        h.hName, h.hValue = name, value
        op.txOption.headers.append(h)
    call.answer(op)
