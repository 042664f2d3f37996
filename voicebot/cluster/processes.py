"""Child processes of the cluster: Kamailio, Rasa NLU servers, SIP workers; start, check, stop."""

from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from voicebot.cluster.forked import ForkedProcess, can_fork, fork_command
from voicebot.config import PROJECT_DIR, FrontDoorLimits
from voicebot.telephony.admission import CapacitySettings

KAMAILIO_TEMPLATE = PROJECT_DIR / "deploy" / "kamailio" / "kamailio.cfg.tmpl"


class ClusterError(RuntimeError):
    """A part of the cluster cannot start; the message says which and why."""


@dataclass
class Child:
    name: str
    argv: list[str]
    log: Path
    env: dict[str, str] | None = None
    proc: subprocess.Popen | ForkedProcess | None = None
    restarts: int = 0
    started_at: float = field(default=0.0)
    forked: bool = False  # a 'python -m voicebot ...' command forked from this process (see forked.py)

    def start(self) -> None:
        if self.forked and can_fork():
            self.proc = fork_command(self.argv[3:], self.log, dict(self.env or os.environ), PROJECT_DIR)
            self.started_at = time.monotonic()
            return
        out = open(self.log, "ab")  # the child keeps its own copy of the descriptor
        self.proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT, env=self.env,
                                     start_new_session=True, cwd=PROJECT_DIR)
        out.close()
        self.started_at = time.monotonic()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode


def free_port(bind: str = "127.0.0.1") -> int:
    """A port free for both UDP and TCP (SIP listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind((bind, 0))
            port = u.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                try:
                    t.bind((bind, port))
                except OSError:
                    continue
                return port
    raise ClusterError("no free port")


def kamailio_modules() -> str:
    for candidate in ("/usr/lib/x86_64-linux-gnu/kamailio/modules", "/usr/lib/kamailio/modules",
                      "/usr/local/lib64/kamailio/modules"):
        if Path(candidate, "dispatcher.so").exists():
            return candidate
    raise ClusterError("Kamailio is not installed (Debian: apt-get install kamailio)")


def _trusted_check(trusted: list[str]) -> str:
    """Kamailio lines that set $var(trusted), or drop the request when it is from outside the list."""
    if not trusted:
        return "\t# no [front_door] trusted networks: every source may call, within the limits"
    for cidr in trusted:
        ipaddress.ip_network(cidr, strict=False)  # refuse a typo before Kamailio sees it
    test = " || ".join(f'is_in_subnet("$si", "{cidr}")' for cidr in trusted)
    return (f"\tif ({test}) {{\n\t\t$var(trusted) = 1;\n\t}} else {{\n"
            '\t\txlog("L_WARN", "SIP from $si, not a trusted network: dropped\\n");\n\t\texit;\n\t}')


def _line_check(line_calls: int) -> str:
    """The front door's count of calls in progress (dialog profile ``line``), when the line has a limit."""
    if line_calls <= 0:
        return ""
    return (f'\tif (get_profile_size("line", "$var(line)") && $var(line) >= {line_calls}) {{\n'
            '\t\troute(LINE_FULL);\n\t}\n')


def _line_full(capacity: CapacitySettings) -> str:
    """What a caller over the limit gets: marked for a worker's busy message, or a status with Retry-After."""
    if capacity.busy == "message":
        return ('\tsetflag(5);\n\tappend_hf("X-Voicebot-Busy: line-full\\r\\n");\n')
    reason = "Busy Here" if capacity.busy == "486" else "Service Unavailable"
    return (f'\tappend_to_reply("Retry-After: {capacity.retry_after_s}\\r\\n");\n'
            f'\tsl_send_reply("{capacity.busy}", "{reason}");\n\texit;\n')


def render_kamailio(folder: Path, bind: str, port: int, workers: list[tuple[str, int]],
                    limits: FrontDoorLimits | None = None, line_calls: int = 0,
                    capacity: CapacitySettings | None = None) -> Path:
    """Write kamailio.cfg and dispatcher.list (set 1 = the workers) into ``folder``; ``line_calls``
    above 0 is the line's limit of calls in progress (the rest get ``capacity``'s busy answer)."""
    limits = limits or FrontDoorLimits()
    capacity = capacity or CapacitySettings()
    folder.mkdir(parents=True, exist_ok=True)
    dispatcher = folder / "dispatcher.list"
    dispatcher.write_text("# setid destination flags priority attributes\n" + "".join(
        f"1 sip:{host}:{wport} 0 0 name=worker{i}\n" for i, (host, wport) in enumerate(workers, 1)))
    cfg = folder / "kamailio.cfg"
    cfg.write_text(Template(KAMAILIO_TEMPLATE.read_text()).safe_substitute(
        bind=bind, port=port, modules=kamailio_modules(), dispatcher_list=dispatcher,
        pike_density=limits.pike_density, max_calls_per_source=limits.max_calls_per_source,
        trusted_check=_trusted_check(limits.trusted), line_check=_line_check(line_calls),
        line_full=_line_full(capacity), retry_after=capacity.retry_after_s))
    check = subprocess.run(["kamailio", "-c", "-f", str(cfg)], capture_output=True, text=True)
    if check.returncode:
        raise ClusterError(f"Kamailio rejects {cfg}: {check.stderr.strip()[-1500:]}")
    return cfg


def kamailio_child(folder: Path, cfg: Path) -> Child:
    binary = shutil.which("kamailio") or "/usr/sbin/kamailio"
    return Child("kamailio", [binary, "-DD", "-E", "-f", str(cfg), "-P", str(folder / "kamailio.pid"), "-Y",
                              str(folder)], folder / "kamailio.log")


def nlu_argv(model: Path, host: str, port: int) -> list[str]:
    """A shared NLU server's command line (``voicebot.nlu.server``): no token on it, where any
    local user could read it; the token goes in its environment (``nlu_env``)."""
    return [sys.executable, "-m", "voicebot.nlu.server", "--model", str(model), "--host", host, "--port", str(port)]


# one thread for the numeric library too (the sentence encoder's matrix products): a shared server
# parses one request at a time, and on a machine busy with calls a helper thread only waits
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def nlu_env(token: str) -> dict[str, str]:
    return {**os.environ, **ONE_THREAD, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
            "VOICEBOT_NLU_TOKEN": token}


def nlu_child(folder: Path, lang: str, model: Path, port: int, token: str) -> Child:
    """A shared NLU server on loopback that answers only requests bearing ``token``."""
    return Child(f"nlu-{lang}", nlu_argv(model, "127.0.0.1", port), folder / f"nlu-{lang}.log", env=nlu_env(token))


def speech_child(folder: Path, model: Path, port: int, token: str) -> Child:
    """The shared Whisper server (``voicebot.speech.whisper_server``) on loopback, for ``token`` only."""
    argv = [sys.executable, "-m", "voicebot.speech.whisper_server", "--model", str(model), "--host", "127.0.0.1",
            "--port", str(port), "--threads", str(max(1, min(4, os.cpu_count() or 1)))]
    return Child("speech", argv, folder / "speech.log", env={**os.environ, "VOICEBOT_SPEECH_TOKEN": token})


def wait_http(url: str, child: Child, timeout: float, headers: dict[str, str] | None = None) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=1)
            return
        except OSError:
            if not child.alive:
                raise ClusterError(f"{child.name} exited; see {child.log}") from None
            time.sleep(0.5)
    raise ClusterError(f"{child.name} did not answer {url} within {timeout:.0f} s; see {child.log}")


def sip_options(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether a SIP endpoint answers an OPTIONS over UDP (any response counts)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.bind((host, 0))
        lport = s.getsockname()[1]
        branch = f"z9hG4bK{time.time_ns()}"
        msg = (f"OPTIONS sip:{host}:{port} SIP/2.0\r\nVia: SIP/2.0/UDP {host}:{lport};branch={branch}\r\n"
               f"Max-Forwards: 70\r\nFrom: <sip:check@{host}>;tag=1\r\nTo: <sip:{host}:{port}>\r\n"
               f"Call-ID: {time.time_ns()}@{host}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
        try:
            s.sendto(msg.encode(), (host, port))
            data, _ = s.recvfrom(4096)
            return data.startswith(b"SIP/2.0")
        except OSError:
            return False
