"""A small network of hosts made of Linux network namespaces, for the multi-host tests.

Each host is a namespace with one interface on a shared bridge, which lives in a namespace of
its own (nothing is added to the machine's own network). Roles start from their systemd unit
(deploy/systemd/): its ExecStart and EnvironmentFile, run inside the host with the unit's
paths bind-mounted, in a mount namespace of that process only: /opt/voicebot is this checkout,
/etc/voicebot holds the host's file from deploy/hosts/ as voicebot.toml and its secrets.env,
/var/lib/voicebot and /var/log/voicebot are the host's own folders.
"""

from __future__ import annotations

import os
import secrets
import shlex
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
UNITS = PROJECT / "deploy" / "systemd"
HOST_FILES = PROJECT / "deploy" / "hosts"
# the addresses deploy/hosts/ names (the caller host is the tests' own)
HOSTS = {"caller": "10.20.0.10", "front": "10.20.0.11", "worker1": "10.20.0.21", "worker2": "10.20.0.22",
         "nlu": "10.20.0.31", "db": "10.20.0.41"}
WORKER_INSTANCES = ("0", "1")  # voicebot-worker@0 and @1 on each worker host, as front-door.toml lists them
PREFIX = "vbt-"
SWITCH = f"{PREFIX}switch"
MOUNT_POINTS = ("/opt/voicebot", "/etc/voicebot", "/var/lib/voicebot", "/var/log/voicebot")


class NamespacesUnavailable(RuntimeError):
    """This machine will not make network namespaces (no privilege): the message says why."""


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    if check and done.returncode:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip()}")
    return done


def unit_command(unit: str, instance: str = "") -> tuple[list[str], list[str]]:
    """A unit's ExecStart (as argv, %i filled in) and its EnvironmentFile paths."""
    start, env_files = None, []
    for line in (UNITS / unit).read_text().splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue
        if key.strip() == "ExecStart":
            start = shlex.split(value.replace("%i", instance))
        elif key.strip() == "EnvironmentFile":
            env_files.append(value.strip().lstrip("-"))
    if start is None:
        raise ValueError(f"{unit} has no ExecStart")
    return start, env_files


@dataclass
class Host:
    name: str
    address: str
    folder: Path  # its /etc/voicebot, /var/lib/voicebot and /var/log/voicebot
    procs: list[subprocess.Popen] = field(default_factory=list)

    @property
    def ns(self) -> str:
        return f"{PREFIX}{self.name}"

    def exec_argv(self, argv: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.ns, *argv]

    def install(self, host_file: str, secrets: dict[str, str]) -> None:
        """Put deploy/hosts/``host_file`` and the secrets where the units read them."""
        for sub in ("etc", "lib", "log"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        (self.folder / "etc" / "voicebot.toml").write_text((HOST_FILES / host_file).read_text())
        (self.folder / "etc" / "secrets.env").write_text("".join(f"{k}={v}\n" for k, v in secrets.items()))

    def start_unit(self, unit: str, instance: str = "") -> subprocess.Popen:
        """Run a unit's ExecStart on this host, as systemd would, with the unit's paths mounted."""
        argv, env_files = unit_command(unit, instance)
        log = open(self.folder / "log" / f"{unit.split('@')[0].split('.')[0]}{instance and '-' + instance}.out", "ab")
        proc = subprocess.Popen(self._mounted(argv), env=self._env(env_files), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        log.close()
        self.procs.append(proc)
        return proc

    def voicebot(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """A one-off `voicebot` command on this host, with its configuration and secrets."""
        argv = ["/opt/voicebot/.venv/bin/voicebot", "--config", "/etc/voicebot/voicebot.toml", *args]
        return subprocess.run(self._mounted(argv), env=self._env(["/etc/voicebot/secrets.env"]), capture_output=True,
                              text=True, timeout=timeout)

    def _mounted(self, argv: list[str]) -> list[str]:
        mounts = {"/opt/voicebot": PROJECT, "/etc/voicebot": self.folder / "etc",
                  "/var/lib/voicebot": self.folder / "lib", "/var/log/voicebot": self.folder / "log"}
        script = " && ".join([*(f"mount --bind {shlex.quote(str(src))} {dst}" for dst, src in mounts.items()),
                              "cd /opt/voicebot", f"exec {shlex.join(argv)}"])
        return self.exec_argv(["sh", "-c", script])

    def _env(self, env_files: list[str]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VOICEBOT_")}
        for path in env_files:
            local = Path(path.replace("/etc/voicebot", str(self.folder / "etc")))
            if local.exists():
                for line in local.read_text().splitlines():
                    key, sep, value = line.partition("=")
                    if sep and not key.startswith("#"):
                        env[key.strip()] = value.strip()
        return env

    def run(self, argv: list[str], env: dict[str, str] | None = None, timeout: float = 120,
            **kwargs: object) -> subprocess.CompletedProcess:
        return subprocess.run(self.exec_argv(argv), env=env, capture_output=True, text=True, timeout=timeout,
                              **kwargs)

    def cable(self, up: bool) -> None:
        """Plug in or pull this host's network cable (its port on the switch)."""
        sh("ip", "-n", SWITCH, "link", "set", f"p-{self.name}", "up" if up else "down")

    def power_off(self) -> None:
        """The host is lost: cable pulled and every process in it killed at once."""
        self.cable(False)
        pids = sh("ip", "netns", "pids", self.ns, check=False).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                pass

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def log_tail(self, n: int = 40) -> str:
        out = []
        for path in sorted((self.folder / "log").glob("*")):
            lines = path.read_text(errors="replace").splitlines()[-n:]
            out.append(f"--- {self.name}: {path.name}\n" + "\n".join(lines))
        return "\n".join(out)


class Lab:
    """Hosts on one switch (10.20.0.0/24); made by ``up()``, removed by ``down()``."""

    def __init__(self, folder: Path, hosts: dict[str, str]) -> None:
        self.folder = folder
        self.hosts = {name: Host(name, address, folder / name) for name, address in hosts.items()}
        self._made_dirs: list[str] = []

    def __getitem__(self, name: str) -> Host:
        return self.hosts[name]

    @staticmethod
    def check() -> None:
        """Raise NamespacesUnavailable unless namespaces can be made here."""
        if os.geteuid() != 0:
            raise NamespacesUnavailable("network namespaces need root (CI runs as root)")
        probe = subprocess.run(["ip", "netns", "add", f"{PREFIX}probe"], capture_output=True, text=True)
        if probe.returncode:
            raise NamespacesUnavailable(f"ip netns add fails here: {probe.stderr.strip()}")
        sh("ip", "netns", "del", f"{PREFIX}probe")

    def up(self) -> Lab:
        self.clean_leftovers()
        for point in MOUNT_POINTS:
            if not os.path.isdir(point):
                os.makedirs(point)
                self._made_dirs.append(point)
        sh("ip", "netns", "add", SWITCH)
        sh("ip", "-n", SWITCH, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", SWITCH, "link", "set", "br0", "up")
        for host in self.hosts.values():
            sh("ip", "netns", "add", host.ns)
            sh("ip", "-n", SWITCH, "link", "add", f"p-{host.name}", "type", "veth", "peer", "name", "eth0",
               "netns", host.ns)
            sh("ip", "-n", SWITCH, "link", "set", f"p-{host.name}", "master", "br0", "up")
            sh("ip", "-n", host.ns, "addr", "add", f"{host.address}/24", "dev", "eth0")
            sh("ip", "-n", host.ns, "link", "set", "eth0", "up")
            sh("ip", "-n", host.ns, "link", "set", "lo", "up")
            host.folder.mkdir(parents=True, exist_ok=True)
        return self

    def down(self) -> None:
        for host in self.hosts.values():
            host.stop()
        self.clean_leftovers()
        for point in reversed(self._made_dirs):
            try:
                os.rmdir(point)
            except OSError:
                pass

    @staticmethod
    def clean_leftovers() -> None:
        """Namespaces of an earlier run that did not end (their processes are killed first)."""
        for line in sh("ip", "netns", "list", check=False).stdout.splitlines():
            name = line.split()[0] if line.split() else ""
            if name.startswith(PREFIX):
                for pid in sh("ip", "netns", "pids", name, check=False).stdout.split():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except (ProcessLookupError, ValueError):
                        pass
                time.sleep(0.2)
                sh("ip", "netns", "del", name, check=False)


def start_line(folder: Path) -> tuple[Lab, object]:
    """The whole line on its hosts, ready for calls: PostgreSQL on the database host (password
    logins, production durability), schema and demo bank made from a worker host, the en-US NLU
    server, both workers and the front door, each from its unit. Returns the lab and the
    database server; on failure everything started is stopped and the error holds the logs."""
    from tests.pg import TestPostgres

    lab = Lab(folder, HOSTS).up()
    pg = None
    try:
        # not under pytest's temp folder: that is private to root, and the server runs as 'postgres'
        pg = TestPostgres(Path(tempfile.mkdtemp(prefix="voicebot-pg-")), 5432, listen=HOSTS["db"],
                          network="10.20.0.0/24", durable=True, prefix=tuple(lab["db"].exec_argv([])))
        pg.start()
        password, token = secrets.token_hex(12), secrets.token_urlsafe(24)
        pg.sql(f"CREATE ROLE voicebot LOGIN PASSWORD '{password}'")
        pg.sql("CREATE DATABASE voicebot OWNER voicebot")
        worker_secrets = {"VOICEBOT_DB_URL": f"postgresql+psycopg2://voicebot:{password}@{HOSTS['db']}/voicebot",
                          "VOICEBOT_NLU_TOKEN": token, "VOICEBOT_AGENT_SECRET": secrets.token_urlsafe(24),
                          "VOICEBOT_RECORDING_KEY": secrets.token_hex(32)}
        lab["worker1"].install("worker-1.toml", worker_secrets)
        lab["worker2"].install("worker-2.toml", worker_secrets)
        lab["nlu"].install("nlu.toml", {"VOICEBOT_NLU_TOKEN": token})
        lab["front"].install("front-door.toml", {})
        for step in (("db", "migrate"), ("db", "seed", "--demo")):  # once, from a worker host, over the network
            done = lab["worker1"].voicebot(*step)
            if done.returncode:
                raise RuntimeError(f"voicebot {' '.join(step)} on worker1: {done.stdout}{done.stderr}")
        lab["nlu"].start_unit("voicebot-nlu@.service", "en-US")
        for name in ("worker1", "worker2"):
            for instance in WORKER_INSTANCES:
                lab[name].start_unit("voicebot-worker@.service", instance)
        for name in ("worker1", "worker2"):
            for instance in WORKER_INSTANCES:
                _wait_for(lab, folder / name / "log" / f"voicebot-worker-{instance}.out", "ready ", 240,
                          f"{name}'s worker {instance}")
        _wait_for(lab, folder / "nlu" / "log" / "voicebot-nlu-en-US.out", "NLU server for en-US ready", 300,
                  "the NLU server")
        lab["front"].start_unit("voicebot-front-door.service")
        time.sleep(3)  # Kamailio's first probes of the workers
        return lab, pg
    except BaseException:
        lab.down()
        if pg is not None:
            pg.stop()
        raise


def _wait_for(lab: Lab, path: Path, text: str, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        time.sleep(0.5)
    logs = "\n".join(host.log_tail() for host in lab.hosts.values())
    raise RuntimeError(f"{what} did not start within {timeout:.0f} s:\n{logs}")
