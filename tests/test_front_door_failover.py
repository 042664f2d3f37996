"""The front door (Kamailio) passes a call on when a worker cannot take it.

A worker that has begun to stop answers a new INVITE with 480 by itself (pjsua does so once
its shutdown has started, after our 503 window): during a rolling restart one sipp call in a
CI run got that 480 instead of a bot. Two stand-in workers on loopback, one stopping (480)
and one well (200), show where each call ends up.
"""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.sip import free_port
from voicebot.cluster.processes import kamailio_child, render_kamailio, sip_options

pytestmark = pytest.mark.sip

if shutil.which("kamailio") is None:
    pytest.fail("kamailio is not installed (scripts/setup.sh installs the Debian package)", pytrace=False)


def reply(request: str, status: str) -> bytes:
    """A stateless response to ``request`` (its Via, From, To, Call-ID and CSeq), as pjsua sends one."""
    keep = [line for line in request.split("\r\n") if re.match(r"(?i)(via|from|call-id|cseq):", line)]
    to = next(line for line in request.split("\r\n") if re.match(r"(?i)to:", line))
    contact = "Contact: <sip:worker@127.0.0.1>\r\n" if status.startswith("200") else ""
    return (f"SIP/2.0 {status}\r\n" + "\r\n".join(keep) + f"\r\n{to};tag=w{time.time_ns()}\r\n{contact}"
            "Content-Length: 0\r\n\r\n").encode()


class StandIn(threading.Thread):
    """A worker stand-in: OPTIONS get 200 (so the dispatcher keeps it), INVITEs get ``status``."""

    def __init__(self, status: str) -> None:
        super().__init__(daemon=True)
        self.status, self.invites = status, 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", free_port()))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                data, peer = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            request = data.decode(errors="replace")
            if request.startswith("OPTIONS"):
                self.sock.sendto(reply(request, "200 OK"), peer)
            elif request.startswith("INVITE"):
                self.invites += 1
                self.sock.sendto(reply(request, self.status), peer)


def invite(port: int, n: int) -> int:
    """Send an INVITE to the front door; the final status it answers (0: none within 10 s)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(1.0)
        me = s.getsockname()[1]
        s.sendto((f"INVITE sip:95588@127.0.0.1:{port} SIP/2.0\r\n"
                  f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bKtest{n}{time.time_ns()}\r\n"
                  f"Max-Forwards: 70\r\nFrom: <sip:1380000009{n}@127.0.0.1>;tag=c{n}\r\n"
                  f"To: <sip:95588@127.0.0.1:{port}>\r\nCall-ID: failover-{n}-{time.time_ns()}@test\r\n"
                  f"CSeq: 1 INVITE\r\nContact: <sip:caller@127.0.0.1:{me}>\r\nContent-Length: 0\r\n\r\n").encode(),
                 ("127.0.0.1", port))
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                code = int(s.recv(65535).decode(errors="replace").split(" ", 2)[1])
            except TimeoutError:
                continue
            if code >= 200:
                return code
    return 0


def test_a_call_a_stopping_worker_answers_480_goes_to_the_next_worker(tmp_path: Path) -> None:
    stopping, well = StandIn("480 Temporarily Unavailable"), StandIn("200 OK")
    for worker in (stopping, well):
        worker.start()
    port = free_port()
    cfg = render_kamailio(tmp_path / "kamailio", "127.0.0.1", port,
                          [("127.0.0.1", stopping.port), ("127.0.0.1", well.port)])
    door = kamailio_child(tmp_path, cfg)
    door.start()
    try:
        end = time.monotonic() + 20
        while not sip_options("127.0.0.1", port):
            assert door.alive and time.monotonic() < end, door.log.read_text()[-2000:]
            time.sleep(0.2)
        time.sleep(2.5)  # the dispatcher has probed both stand-ins: both are in the rotation
        answers = [invite(port, n) for n in range(4)]
    finally:
        door.stop()
        for worker in (stopping, well):
            worker.stopped.set()
    assert stopping.invites >= 1  # round robin did offer calls to the stopping worker ...
    assert answers == [200] * 4  # ... and every call still reached the well one
    assert well.invites == 4
