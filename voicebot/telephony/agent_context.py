"""What an agent seat is told about a handed-over call, and the proof that the bot said it.

In refer mode the caller's own phone builds the agent's INVITE from our Refer-To URI, so it
can change any header in it. The context therefore carries an HMAC-SHA256 signature over
every ``X-Voicebot-*`` value and an expiry, made with a secret the bot and the agent desktop
share (``[agents] context_secret`` or ``VOICEBOT_AGENT_SECRET``). The signature also covers
the pool the call is offered to, so a context cannot be replayed to another pool. A seat that
has the secret trusts nothing unsigned: a missing signature is as forged as a wrong one
(``trust``). Without a secret the customer's identity, and the screen pop's token, are sent only
by the bot itself (bridge mode), never through the caller's phone. Values are redacted (card
numbers masked) and are URI-escaped where they go into a Refer-To URI.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import quote

from voicebot.redact import mask_card, redact

PREFIX = "X-Voicebot-"
SIGNATURE = "X-Voicebot-Signature"
VALID_S = 120  # a signed context is honoured this long after the hand-over started
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.*:+@")


def header_value(value: str) -> str:
    """A header value that cannot break a header or a URI: safe characters only, card numbers masked."""
    return "".join(ch if ch in _SAFE else "_" for ch in redact(value))[:64]


def context_headers(*, reason: str, service: str, lang: str, region: str, call_id: str,
                    identifier: str | None, secret: str | None, through_caller: bool, pool: str = "",
                    context: str | None = None, now: float | None = None) -> dict[str, str]:
    """The hand-over headers for ``pool``, signed when there is a secret. The customer is named when
    the headers cannot be forged: signed, or sent by the bot itself (not ``through_caller``'s
    phone). The screen pop's ``context`` token goes only into signed headers: a desk loads it only
    when the signature holds."""
    headers = {"X-Voicebot-Reason": reason, "X-Voicebot-Service": service, "X-Voicebot-Language": lang,
               "X-Voicebot-Region": region, "X-Voicebot-Call-Id": call_id, "X-Voicebot-Pool": pool}
    if secret or not through_caller:
        headers["X-Voicebot-Customer"] = mask_card(identifier) if identifier else "unidentified"
    if secret and context:
        headers["X-Voicebot-Context"] = context
    if secret:
        headers["X-Voicebot-Expires"] = str(int((now or time.time()) + VALID_S))
    headers = {name: header_value(value) for name, value in headers.items()}
    if secret:
        headers[SIGNATURE] = _sign(headers, secret)
    return headers


def verify(headers: dict[str, str], secret: str, now: float | None = None) -> bool:
    """Whether ``headers`` (every ``X-Voicebot-*`` one received) are the bot's, unchanged and in time."""
    signature = headers.get(SIGNATURE)
    signed = {k: v for k, v in headers.items() if k.lower().startswith(PREFIX.lower()) and k != SIGNATURE}
    if not signature or not hmac.compare_digest(signature, _sign(signed, secret)):
        return False
    try:
        return int(signed.get("X-Voicebot-Expires", "0")) >= (now or time.time())
    except ValueError:
        return False


def trust(headers: dict[str, str], secret: str | None, now: float | None = None) -> str:
    """How far a seat may trust the headers it got: "verified" (the bot's, unchanged, in time),
    "forged" (a secret is configured and the signature is missing, wrong or expired), or
    "unsigned" (this seat has no secret, so it can check nothing)."""
    if not secret:
        return "unsigned"
    return "verified" if verify(headers, secret, now) else "forged"


def context_received(msg: str) -> dict[str, str]:
    """Every ``X-Voicebot-*`` header of a raw SIP message, names as the bot spells them."""
    found: dict[str, str] = {}
    for line in msg.split("\r\n")[1:]:
        if not line:
            break
        name, sep, value = line.partition(":")
        if sep and name.strip().lower().startswith(PREFIX.lower()):
            canonical = "-".join(part.capitalize() for part in name.strip().split("-"))
            found[canonical] = value.strip()
    return found


def refer_params(headers: dict[str, str]) -> str:
    """The headers as the ``?name=value&...`` part of a Refer-To URI, each value escaped."""
    return "&".join(f"{name}={quote(value, safe='')}" for name, value in headers.items())


def _sign(headers: dict[str, str], secret: str) -> str:
    canonical = "\n".join(f"{k.lower()}:{v}" for k, v in sorted(headers.items(), key=lambda kv: kv[0].lower()))
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()
