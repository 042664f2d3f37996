"""A light SIP load generator for the benchmarks: many speaking callers from one process.

Each caller is a thread with a plain UDP SIP dialog (INVITE/ACK/BYE, following Record-Route,
so it works through Kamailio) and an RTP stream of G.711 µ-law speech from a WAV file. It
times every reply: from the end of its words (the phrase's last sound, a soft final consonant
too, as the softphone times it) to the first voiced packet back; between its 20 ms sends it
sleeps in ``recv`` (polling every 5 ms took callers 10-11% of this 2-core machine at 20-28
calls, 6-7% so; their CPU is taken from the cluster they measure). No pjsua2 (one
endpoint per process would mean one process per caller, whose CPU would cloud the figures).
"""

from __future__ import annotations

import random
import re
import socket
import struct
import threading
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from voicebot.speech.audio import is_voiced, words_end

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

FRAME = 160  # 20 ms at 8 kHz


@dataclass
class CallStats:
    latencies: list[float] = field(default_factory=list)
    answered: bool = False
    answer_s: float | None = None  # INVITE to 200 OK
    error: str | None = None


def _sdp(ip: str, port: int) -> str:
    return (f"v=0\r\no=load 1 1 IN IP4 {ip}\r\ns=-\r\nc=IN IP4 {ip}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")


class LoadCall(threading.Thread):
    """One caller: dial, then alternate ``phrases`` (int16 8 kHz arrays) with ``gap_s`` of silence."""

    GAP_S = 3.5  # silence after each phrase: the bot's reply, the caller listening

    def __init__(self, target: tuple[str, int], caller: str, phrases: list[np.ndarray], rounds: int,
                 gap_s: float = GAP_S, local_ip: str = "127.0.0.1") -> None:
        super().__init__(daemon=True)
        self.target, self.caller, self.phrases, self.rounds, self.gap_s = target, caller, phrases, rounds, gap_s
        self.ip = local_ip
        self.stats = CallStats()
        self.sip = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sip.bind((local_ip, 0))
        self.sip.settimeout(0.5)
        self.rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.rtp.bind((local_ip, 0))
        self.rtp.setblocking(False)
        self.call_id = f"{random.getrandbits(64):x}@{local_ip}"
        self.tag = f"{random.getrandbits(32):x}"

    # -- SIP ---------------------------------------------------------------------------------
    def _send(self, msg: str, to: tuple[str, int]) -> None:
        self.sip.sendto(msg.encode(), to)

    def _request(self, method: str, uri: str, cseq: int, extra: str = "", body: str = "") -> str:
        sport = self.sip.getsockname()[1]
        return (f"{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {self.ip}:{sport};rport;branch=z9hG4bK"
                f"{random.getrandbits(48):x}\r\nMax-Forwards: 70\r\n"
                f"From: <sip:{self.caller}@{self.ip}>;tag={self.tag}\r\n{extra}"
                f"Call-ID: {self.call_id}\r\nCSeq: {cseq} {method}\r\n"
                f"Contact: <sip:{self.caller}@{self.ip}:{sport}>\r\n"
                + ("Content-Type: application/sdp\r\n" if body else "")
                + f"Content-Length: {len(body)}\r\n\r\n{body}")

    def run(self) -> None:
        try:
            self._run()
        except Exception as exc:  # reported in the figures, not raised in a thread
            self.stats.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.sip.close()
            self.rtp.close()

    def _run(self) -> None:
        host, port = self.target
        ruri = f"sip:95588@{host}:{port}"
        to = f"To: <{ruri}>\r\n"
        invite = self._request("INVITE", ruri, 1, to, _sdp(self.ip, self.rtp.getsockname()[1]))
        ok = None
        sent_at = time.monotonic()
        end = time.monotonic() + 15
        last_send = 0.0
        while ok is None and time.monotonic() < end:
            if time.monotonic() - last_send > 1.0:
                self._send(invite, self.target)
                last_send = time.monotonic()
            try:
                data = self.sip.recv(8192).decode(errors="replace")
            except TimeoutError:
                continue
            code = int(data.split(" ", 2)[1]) if data.startswith("SIP/2.0") else 0
            if code >= 300:
                self.stats.error = f"INVITE answered {code}"
                self._send(self._ack_for_error(data, ruri), self.target)
                return
            if code == 200 and "INVITE" in _header(data, "CSeq"):
                ok = data
        if ok is None:
            self.stats.error = "no answer"
            return
        self.stats.answered = True
        self.stats.answer_s = time.monotonic() - sent_at
        to_hdr = f"To: {_header(ok, 'To')}\r\n"
        routes = list(reversed(_headers(ok, "Record-Route")))
        remote = re.search(r"<([^>]+)>", _header(ok, "Contact")).group(1)
        route_hdr = "".join(f"Route: {r}\r\n" for r in routes)
        next_hop = self.target if routes else _hostport(remote)
        self._send(self._request("ACK", remote, 1, to_hdr + route_hdr), next_hop)
        media_ip = re.search(r"c=IN IP4 (\S+)", ok).group(1)
        media_port = int(re.search(r"m=audio (\d+)", ok).group(1))
        try:
            self._talk((media_ip, media_port))
        finally:
            bye = self._request("BYE", remote, 2, to_hdr + route_hdr)
            end, sent = time.monotonic() + 4, 0.0
            while time.monotonic() < end:  # resent until answered, as a UA does over UDP
                if time.monotonic() - sent > 0.5:
                    self._send(bye, next_hop)
                    sent = time.monotonic()
                try:
                    if "BYE" in _header(self.sip.recv(8192).decode(errors="replace"), "CSeq"):
                        break
                except TimeoutError:
                    pass

    def _ack_for_error(self, response: str, ruri: str) -> str:
        return self._request("ACK", ruri, 1, f"To: {_header(response, 'To')}\r\n")

    # -- RTP ---------------------------------------------------------------------------------
    def _talk(self, media: tuple[str, int]) -> None:
        silence = audioop.lin2ulaw(np.zeros(FRAME, dtype=np.int16).tobytes(), 2)
        # (µ-law payload, part of a phrase, words still going on): encoded once, before the clock starts
        plan: list[tuple[bytes, bool, bool]] = [(silence, False, False)] * int(2.0 * 50)
        for _ in range(self.rounds):
            for phrase in self.phrases:
                frames = [phrase[i:i + FRAME].astype(np.int16) for i in range(0, len(phrase) - FRAME + 1, FRAME)]
                last = (words_end(phrase) - 1) // FRAME  # the frame the words end in (a soft last consonant too)
                plan += [(audioop.lin2ulaw(f.tobytes(), 2), True, i <= last) for i, f in enumerate(frames)]
                plan += [(silence, False, False)] * int(self.gap_s * 50)
        ssrc, seq, ts = random.getrandbits(32), random.getrandbits(16), random.getrandbits(32)
        start = time.monotonic()
        spoke_until: float | None = None
        in_phrase, last_voiced = False, 0.0
        for i, (payload, is_speech, voiced) in enumerate(plan):
            due = start + i * 0.02
            while True:  # read what comes back until this frame is due, asleep in recv meanwhile
                self.rtp.settimeout(max(0.0, due - time.monotonic()))
                try:
                    pkt = self.rtp.recv(2048)
                except (BlockingIOError, TimeoutError):
                    break
                if len(pkt) > 12 and spoke_until is not None:
                    pcm = np.frombuffer(audioop.ulaw2lin(pkt[12:], 2), dtype=np.int16)
                    if is_voiced(pcm):
                        self.stats.latencies.append(time.monotonic() - spoke_until)
                        spoke_until = None
            if voiced:
                last_voiced = time.monotonic() + 0.02
            elif not is_speech and in_phrase:
                spoke_until = last_voiced  # the words ended with the phrase's last sound
            in_phrase = is_speech
            header = struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc)
            self.rtp.sendto(header + payload, media)
            seq += 1
            ts += FRAME

def _headers(msg: str, name: str) -> list[str]:
    head = msg.split("\r\n\r\n", 1)[0]
    out = []
    for line in head.split("\r\n")[1:]:
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == name.lower():
            out += [v.strip() for v in re.split(r",(?=\s*<)", value)]
    return out


def _header(msg: str, name: str) -> str:
    found = _headers(msg, name)
    return found[0] if found else ""


def _hostport(uri: str) -> tuple[str, int]:
    m = re.search(r"@([^:;>]+)(?::(\d+))?", uri) or re.search(r"sip:([^:;>]+)(?::(\d+))?", uri)
    return m.group(1), int(m.group(2) or 5060)
