"""What an incoming INVITE says about a call: who, which region and language, and whether its
offer has audio we can take. Everything here comes from the caller, so it is checked before use:
a value that could break a log line, a CDR, a metric label or a SIP URI is refused or replaced.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass, field

from voicebot import LANGUAGES
from voicebot.telephony.sipstack import header, uri_user

LINE_NUMBER = "95588"
_CALLER = re.compile(r"[0-9A-Za-z+*#._-]{1,32}")
_CALL_ID = re.compile(r"[!-~]{1,128}")  # printable, no spaces: one log field
_AUDIO_LINE = re.compile(r"^m=audio (\d+) [A-Z/]+ ([\d ]+)", re.M)
_G711_OR_L16 = re.compile(r"^a=rtpmap:(\d+) (PCMU|PCMA|L16)/8000", re.M | re.I)


@dataclass
class CallSetup:
    """What the INVITE says about a call: who, which region, which language."""

    sip_call_id: str
    caller: str | None
    region: str
    lang: str


@dataclass
class LinePlan:
    """The line's regions (area codes) and its defaults."""

    known_regions: set[str]
    default_region: str = "010"
    default_lang: str = "en-US"
    region_header_from: list[str] = field(default_factory=list)  # CIDRs of gateways that may set the region

    def __post_init__(self) -> None:
        self._gateways = [ipaddress.ip_network(cidr, strict=False) for cidr in self.region_header_from]

    def setup(self, msg: str, source: str = "") -> CallSetup:
        """Read a raw INVITE from ``source`` ("ip:port"). ``X-Voicebot-Region`` counts only from a
        gateway of ``region_header_from`` and only for a known region: from anyone else it is ignored."""
        request_line = msg.split("\r\n", 1)[0]
        dialled = uri_user(request_line.split(" ")[1]) if " " in request_line else ""
        asked = header(msg, "X-Voicebot-Region") if self.trusted(source) else None
        region = asked if asked in self.known_regions else self.region_of(dialled)
        accept = (header(msg, "Accept-Language") or "").lower()
        lang = next((code for code in LANGUAGES if accept.startswith(code[:2].lower())), self.default_lang)
        caller = uri_user(header(msg, "From") or "")
        call_id = header(msg, "Call-ID") or ""
        if not _CALL_ID.fullmatch(call_id):  # still told apart, never written as sent
            call_id = "invalid-" + hashlib.sha256(call_id.encode(errors="replace")).hexdigest()[:16]
        return CallSetup(call_id, caller if _CALLER.fullmatch(caller) else None, region, lang)

    def trusted(self, source: str) -> bool:
        """Whether ``source`` ("1.2.3.4:5060", "[::1]:5060") is a gateway of ``region_header_from``."""
        host = source[1:source.find("]")] if source.startswith("[") else source.rsplit(":", 1)[0]
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self._gateways)

    def region_of(self, dialled: str) -> str:
        """'02195588' (area code + line number) reaches region 021; plain '95588' the line's own."""
        digits = "".join(ch for ch in dialled if ch.isdigit())
        if digits.endswith(LINE_NUMBER) and digits[:-len(LINE_NUMBER)] in self.known_regions:
            return digits[:-len(LINE_NUMBER)]
        return self.default_region


def usable_audio(msg: str) -> bool:
    """Whether an INVITE's offer has an audio stream we can take (G.711 or L16 at 8 kHz, a real port).

    An INVITE without a body (offer in our answer) is fine: the media check catches a bad answer.
    """
    body = msg.split("\r\n\r\n", 1)[1] if "\r\n\r\n" in msg else ""
    if "m=" not in body:
        return True
    mapped = {pt for pt, _ in _G711_OR_L16.findall(body)}
    for port, formats in _AUDIO_LINE.findall(body):
        if int(port) and ({"0", "8"} | mapped) & set(formats.split()):
            return True
    return False
