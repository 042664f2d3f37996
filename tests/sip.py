"""Real processes on loopback for the SIP tests: a `voicebot serve` worker, agent seats, callers, sipp."""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from voicebot.cluster.processes import free_port

if TYPE_CHECKING:
    import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
VOICEBOT = [sys.executable, "-m", "voicebot"]
SIPP_DIR = Path(__file__).parent / "sipp"


def seeded_bank(folder: Path) -> str:
    """A new SQLite demo bank in ``folder``; its URL."""
    from voicebot.bank.db import make_engine, migrate
    from voicebot.bank.demo import seed_demo

    url = f"sqlite:///{folder / 'bank.db'}"
    engine = make_engine(url)
    migrate(engine)
    seed_demo(engine)
    engine.dispose()
    return url


def write_config(folder: Path, db_url: str, agent_ports: tuple[int, int], *, mode: str = "bridge",
                 nlu: str = "rasa", ring_s: float = 1.0, endpoint_ms: int = 700,
                 media_timeout_s: float = 30.0, warm_up_s: float = 2.0, extra: str = "",
                 max_hold_s: float = 120.0, agent_secret: str = "", recording: bool = True) -> Path:
    path = folder / "voicebot.toml"
    path.write_text(f"""
base_dir = "{PROJECT}"
[database]
url = "{db_url}"
[dialog]
default_region = "010"
[nlu]
backend = "{nlu}"
[voice]
no_input_s = 5.0
endpoint_ms = {endpoint_ms}
[sip]
media_timeout_s = {media_timeout_s}
max_hold_s = {max_hold_s}
warm_up_s = {warm_up_s}
inband_dtmf = true
[agents]
mode = "{mode}"
{f'context_secret = "{agent_secret}"' if agent_secret else ""}
ring_s = {ring_s}
rings = 3
central = "sip:agents-central@127.0.0.1:{agent_ports[1]}"
[agents.regions.010]
uri = "sip:agents-010@127.0.0.1:{agent_ports[0]}"
[agents.regions.852]
hosted_centrally = true
[recording]
enabled = {str(recording).lower()}
dir = "{folder / 'recordings'}"
key_file = "{folder / 'recording.key'}"
[logging]
file = "{folder / 'voicebot.log'}"
level = "INFO"
{extra}
""")
    return path


def env_for(config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICEBOT_")}
    env["VOICEBOT_CONFIG"] = str(config)
    return env


@dataclass
class Worker:
    """A running `voicebot serve`."""

    proc: subprocess.Popen
    port: int
    cdr: Path
    log: Path
    metrics_port: int
    folder: Path

    @property
    def uri(self) -> str:
        return f"sip:95588@127.0.0.1:{self.port}"

    def cdrs(self) -> list[dict]:
        if not self.cdr.exists():
            return []
        return [json.loads(line) for line in self.cdr.read_text().splitlines() if line.strip()]

    def cdr_of(self, caller: str, timeout: float = 15.0) -> dict:
        """The CDR line of the latest call from ``caller`` (waits for it to be written)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            lines = [c for c in self.cdrs() if c["caller"] == caller]
            if lines:
                return lines[-1]
            time.sleep(0.2)
        raise AssertionError(f"no CDR for caller {caller}; log tail:\n{self.log_tail()}")

    def log_tail(self, n: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:]) if self.log.exists() else ""

    def stderr_tail(self, n: int = 60) -> str:
        """What the worker printed on stderr (a native crash leaves every thread's stack there)."""
        err = self.folder / "serve.err"
        return "\n".join(err.read_text(errors="replace").splitlines()[-n:]) if err.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def start_worker(folder: Path, config: Path, timeout: float = 180.0) -> Worker:
    port, metrics_port = free_port(), free_port()
    cdr = folder / "cdr.jsonl"
    proc = subprocess.Popen([*VOICEBOT, "serve", "--sip-port", str(port), "--cdr", str(cdr),
                             "--metrics-port", str(metrics_port)], cwd=PROJECT, env=env_for(config),
                            stdout=subprocess.PIPE, stderr=open(folder / "serve.err", "w"), text=True)
    worker = Worker(proc, port, cdr, folder / "voicebot.log", metrics_port, folder)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"voicebot serve exited {proc.returncode}: {(folder / 'serve.err').read_text()}")
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready and proc.stdout.readline().startswith("ready "):
            return worker
    worker.stop(signal.SIGKILL)
    raise RuntimeError("voicebot serve did not become ready")


@dataclass
class Seat:
    """A running `voicebot agent` and the events it printed."""

    proc: subprocess.Popen
    port: int
    out: Path
    events: list[dict] = field(default_factory=list)

    def read(self) -> list[dict]:
        self.events = [json.loads(line) for line in self.out.read_text().splitlines() if line.startswith("{")]
        return self.events

    def wait_for(self, event: str, timeout: float = 15.0) -> dict:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            found = [e for e in self.read() if e["event"] == event]
            if found:
                return found[-1]
            time.sleep(0.1)
        raise AssertionError(f"agent seat never reported {event!r}: {self.read()}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def start_seat(folder: Path, config: Path, port: int, *args: str) -> Seat:
    out = folder / f"seat-{port}-{time.monotonic_ns()}.jsonl"
    proc = subprocess.Popen([*VOICEBOT, "agent", "--sip-port", str(port), "--jsonl", *args], cwd=PROJECT,
                            env=env_for(config), stdout=open(out, "w"), stderr=subprocess.STDOUT)
    seat = Seat(proc, port, out)
    seat.wait_for("ready", timeout=30)
    return seat


@dataclass
class CallResult:
    returncode: int
    events: list[dict]
    stderr: str

    def first(self, event: str) -> dict | None:
        return next((e for e in self.events if e["event"] == event), None)

    @property
    def heard_voice_s(self) -> float:
        heard = self.first("heard")
        return heard["voice_s"] if heard else 0.0


def place_call(config: Path, uri: str, script: str, *, caller: str, extra: list[str] | None = None,
               timeout: float = 90.0) -> CallResult:
    proc = start_call(config, uri, script, caller=caller, extra=extra, timeout=timeout)
    return finish_call(proc, timeout)


def start_call(config: Path, uri: str, script: str, *, caller: str, extra: list[str] | None = None,
               timeout: float = 90.0) -> subprocess.Popen:
    return subprocess.Popen([*VOICEBOT, "call", uri, "--script", script, "--caller-id", caller, "--jsonl",
                             "--timeout", str(timeout), *(extra or [])], cwd=PROJECT, env=env_for(config),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_call(proc: subprocess.Popen, timeout: float = 90.0) -> CallResult:
    out, err = proc.communicate(timeout=timeout + 30)
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return CallResult(proc.returncode, events, err)


def sipp(scenario: str | Path, target: str, *, service: str = "95588", timeout_s: int = 60,
         extra: list[str] | None = None, source: str = "127.0.0.1", calls: int = 1) -> subprocess.CompletedProcess:
    """Run a sipp scenario (a name in tests/sipp/, or a path) from ``source``; bounded by ``timeout_s``."""
    return sipp_start(scenario, target, service=service, timeout_s=timeout_s, extra=extra, source=source,
                      calls=calls).wait_done(timeout_s + 30)


class Sipp(subprocess.Popen):
    def wait_done(self, timeout: float) -> subprocess.CompletedProcess:
        out, err = self.communicate(timeout=timeout)
        return subprocess.CompletedProcess(self.args, self.returncode, out, err)


def sipp_start(scenario: str | Path, target: str, *, service: str = "95588", timeout_s: int = 60,
               extra: list[str] | None = None, source: str = "127.0.0.1", calls: int = 1) -> Sipp:
    if shutil.which("sipp") is None:
        raise RuntimeError("sipp is not installed (Debian package sip-tester; scripts/setup.sh installs it)")
    return Sipp(["sipp", target, "-sf", str(SIPP_DIR / scenario), "-s", service, "-m", str(calls),
                 "-i", source, "-p", str(free_port(source)), "-mp", str(free_port(source)),
                 "-timeout", f"{timeout_s}s", "-timeout_error", "-nostdin", "-trace_err", *(extra or [])],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                cwd=tempfile.mkdtemp(prefix="sipp-"))  # sipp writes its error log into the working folder


def info_keys_scenario(path: Path, steps: list[tuple[str, float]], *, caller: str = "13700000002") -> Path:
    """Write a sipp scenario that calls, presses keys as SIP INFO (each key, then a pause in
    seconds), hangs up and ends; routed, so it works through the front door as well as direct."""
    common = (f'From: "sipp" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]\n'
              "      To: <sip:[service]@[remote_ip]:[remote_port]>{to_tag}\n      Call-ID: [call_id]\n"
              "      Contact: <sip:sipp@[local_ip]:[local_port]>\n      Max-Forwards: 70\n")
    via = "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]"

    def request(method: str, cseq: int, body: str = "", ctype: str = "") -> str:
        head = common.format(to_tag="[peer_tag_param]")
        content = f"Content-Type: {ctype}\n      " if ctype else ""
        return (f'  <send retrans="500"><![CDATA[\n      {method} [next_url] SIP/2.0\n      {via}\n      [routes]\n'
                f"      {head}      CSeq: {cseq} {method}\n      {content}Content-Length: [len]\n\n{body}"
                "    ]]></send>\n")

    sdp = ("      v=0\n      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]\n      s=-\n"
           "      c=IN IP[media_ip_type] [media_ip]\n      t=0 0\n      m=audio [media_port] RTP/AVP 0\n"
           "      a=rtpmap:0 PCMU/8000\n")
    parts = ['<?xml version="1.0" encoding="UTF-8" ?>\n<scenario name="keys by INFO">\n',
             f'  <send retrans="500"><![CDATA[\n      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n'
             f"      {via}\n      {common.format(to_tag='')}      CSeq: 1 INVITE\n"
             f"      Content-Type: application/sdp\n      Content-Length: [len]\n\n{sdp}    ]]></send>\n",
             '  <recv response="100" optional="true"/>\n  <recv response="180" optional="true"/>\n',
             '  <recv response="200" rrs="true"/>\n',
             f'  <send><![CDATA[\n      ACK [next_url] SIP/2.0\n      {via}\n      [routes]\n'
             f"      {common.format(to_tag='[peer_tag_param]')}      CSeq: 1 ACK\n      Content-Length: 0\n"
             "    ]]></send>\n",
             '  <pause milliseconds="2000"/>\n']
    cseq = 2
    for key, pause in steps:
        parts.append(request("INFO", cseq, f"      Signal={key}\n      Duration=160\n", "application/dtmf-relay"))
        parts.append('  <recv response="200"/>\n')
        parts.append(f'  <pause milliseconds="{int(pause * 1000)}"/>\n')
        cseq += 1
    parts += [request("BYE", cseq), '  <recv response="200"/>\n</scenario>\n']
    path.write_text("".join(parts))
    return path


def free_port_block(n: int, host: str = "127.0.0.1") -> int:
    """A base port with the next n-1 ports free too (front door + workers)."""
    import socket

    for _ in range(100):
        base = free_port(host)
        if base + n > 65535:
            continue
        socks: list[socket.socket] = []
        try:
            for p in range(base, base + n):
                for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                    s = socket.socket(socket.AF_INET, kind)
                    socks.append(s)
                    s.bind((host, p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port block")


@dataclass
class RunningCluster:
    """A running `voicebot cluster`."""

    proc: subprocess.Popen
    port: int
    cdr: Path
    folder: Path

    @property
    def uri(self) -> str:
        return f"sip:95588@127.0.0.1:{self.port}"

    @property
    def state(self) -> Path:
        """Where the cluster keeps its rendered configuration and its children's logs."""
        return PROJECT / "var" / f"cluster-{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(60)


def start_cluster(folder: Path, config: Path, workers: int, extra: list[str] | None = None,
                  timeout: float = 420.0) -> RunningCluster:
    """`voicebot cluster` on loopback with its own ports; returns once it says it is ready."""
    port = free_port_block(workers + 1)
    cdr = folder / "cdr.jsonl"
    err = folder / "cluster.err"
    proc = subprocess.Popen([*VOICEBOT, "cluster", "--workers", str(workers), "--sip-port", str(port), "--cdr",
                             str(cdr), "--status-every", "2", *(extra or [])], cwd=PROJECT, env=env_for(config),
                            stdout=subprocess.PIPE, stderr=open(err, "w"), text=True, start_new_session=True)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"voicebot cluster exited: {err.read_text()[-3000:]}")
        ready, _, _ = select.select([proc.stdout], [], [], 1)
        if ready and proc.stdout.readline().startswith("ready "):
            return RunningCluster(proc, port, cdr, folder)
    os.killpg(proc.pid, signal.SIGKILL)
    raise RuntimeError("the cluster did not come up")


def wait_for_http(url: str, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    """Wait until ``url`` answers, failing early (with what it printed) if ``proc`` exits."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except (urllib.error.URLError, ConnectionError):
            if proc.poll() is not None:
                raise RuntimeError(f"exited {proc.returncode}: {proc.stdout.read() if proc.stdout else ''}") from None
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer in {timeout:.0f} s")


def recording_of(config: Path, call_id: str, folder: Path, timeout: float = 10.0) -> tuple[dict, np.ndarray]:
    """A call's recording through the CLI (``voicebot recordings list --json`` and ``export
    --keep-channels``): its index line and its samples, (n, 3) int16: caller, bot, agent."""
    import soundfile as sf

    end = time.monotonic() + timeout
    while True:
        listed = subprocess.run([*VOICEBOT, "recordings", "list", "--json"], cwd=PROJECT, env=env_for(config),
                                capture_output=True, text=True, timeout=60)
        assert listed.returncode == 0, listed.stderr
        rows = [json.loads(line) for line in listed.stdout.splitlines() if line.startswith("{")]
        found = [row for row in rows if row["call_id"] == call_id]
        if found or time.monotonic() > end:
            break
        time.sleep(0.3)
    assert found, f"no recording of {call_id} among {[row['call_id'] for row in rows]}"
    wav = folder / f"recording-{call_id}.wav"
    exported = subprocess.run([*VOICEBOT, "recordings", "export", call_id, "-o", str(wav), "--keep-channels"],
                              cwd=PROJECT, env=env_for(config), capture_output=True, text=True, timeout=60)
    assert exported.returncode == 0, exported.stderr
    samples, _ = sf.read(wav, dtype="int16", always_2d=True)
    return found[0], samples
