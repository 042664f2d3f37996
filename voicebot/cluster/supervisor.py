"""`voicebot cluster`: Kamailio on the public SIP port, N workers behind it, shared NLU; supervised.

Workers listen on consecutive ports after the front door's and all append to one CDR file
(each line is one atomic write). A worker that dies is started again; its calls are lost,
new calls go to the others meanwhile (Kamailio's probes take it out and bring it back).
SIGINT/SIGTERM stop Kamailio first (no new calls), then the workers (they hang up their
calls and write their CDRs), then the NLU servers.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import signal
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from voicebot import LANGUAGES
from voicebot.cluster.forked import preload_speech_models
from voicebot.cluster.processes import (
    Child,
    ClusterError,
    free_port,
    kamailio_child,
    nlu_child,
    render_kamailio,
    sip_options,
    speech_child,
    wait_http,
)
from voicebot.config import FrontDoorLimits, join_urls
from voicebot.service_token import bearer
from voicebot.telephony.admission import CapacitySettings

log = logging.getLogger("voicebot.cluster")
DRAIN_S = 600.0  # a rolling restart waits this long for a worker's calls to end, then stops it


@dataclass
class ClusterOptions:
    workers: int
    bind: str
    port: int
    cdr: Path
    folder: Path  # rendered configuration and the children's logs
    config: Path | None = None  # the voicebot configuration the workers use
    nlu_models: dict[str, Path] = field(default_factory=dict)  # language -> model; empty: workers use their config
    nlu_urls: dict[str, str] = field(default_factory=dict)  # shared NLU servers that already run
    status_every_s: float = 30.0
    worker_bind: str = "127.0.0.1"  # workers' SIP and metrics: inside, reached through Kamailio only
    front_door: FrontDoorLimits = field(default_factory=FrontDoorLimits)
    models_root: Path | None = None  # set: workers are forked from here and share its speech models
    line_calls: int = 0  # calls in progress the front door admits (0: as many as the workers' slots)
    capacity: CapacitySettings = field(default_factory=CapacitySettings)  # what a caller over the limit gets
    whisper_model: Path | None = None  # set: one shared Whisper server instead of a model in each worker


class Cluster:
    def __init__(self, options: ClusterOptions, echo: Callable[[str], None]) -> None:
        self.o = options
        self.echo = echo
        self.stopping = threading.Event()
        self.rolling = threading.Event()  # SIGHUP: restart the workers one by one, each after its calls
        self.nlu: list[Child] = []
        self.workers: list[Child] = []
        self.metrics_ports: list[int] = []
        self.kamailio: Child | None = None
        self.speech: Child | None = None  # the shared Whisper server, when a language runs on Whisper

    def worker_port(self, i: int) -> int:
        return self.o.port + 1 + i

    # -- start -----------------------------------------------------------------------------
    def start(self) -> None:
        self.o.folder.mkdir(parents=True, exist_ok=True)
        if self.o.models_root is not None:  # first, while this process has no other thread
            shared = preload_speech_models(self.o.models_root, LANGUAGES)
            self.echo(f"speech models loaded once, shared by the forked workers: {', '.join(shared) or 'none'}")
        urls = dict(self.o.nlu_urls)
        token = secrets.token_urlsafe(24)  # the NLU servers' API answers only the workers
        for lang, model in self.o.nlu_models.items():  # started together: they load in parallel
            port = free_port()
            child = nlu_child(self.o.folder, lang, model, port, token)
            self.echo(f"starting the shared {lang} NLU server on port {port} ...")
            child.start()
            self.nlu.append(child)
            urls[lang] = f"http://127.0.0.1:{port}"
        speech_url = ""
        if self.o.whisper_model is not None:  # one Whisper for every worker's Mandarin callers
            port = free_port()
            self.speech = speech_child(self.o.folder, self.o.whisper_model, port, token)
            self.echo(f"starting the shared speech server (Whisper) on port {port} ...")
            self.speech.start()
            speech_url = f"http://127.0.0.1:{port}"
        for child, lang in zip(self.nlu, self.o.nlu_models, strict=True):
            wait_http(f"{urls[lang]}/status", child, timeout=300, headers=bearer(token))
        if self.speech is not None:
            wait_http(f"{speech_url}/status", self.speech, timeout=120, headers=bearer(token))
        env = {k: v for k, v in os.environ.items() if k != "VOICEBOT_NLU_BACKEND"}
        if self.o.nlu_models:
            env["VOICEBOT_NLU_TOKEN"] = token
        if self.o.config:
            env["VOICEBOT_CONFIG"] = str(self.o.config)
        env.pop("VOICEBOT_SPEECH_URL", None)
        if speech_url:
            env["VOICEBOT_SPEECH_URL"], env["VOICEBOT_SPEECH_TOKEN"] = speech_url, token
        if urls:
            env["VOICEBOT_NLU_BACKEND"] = "http"
            env["VOICEBOT_NLU_URLS"] = join_urls(urls)
        for i in range(self.o.workers):
            metrics = free_port()
            self.metrics_ports.append(metrics)
            argv = [sys.executable, "-m", "voicebot", "serve", "--bind", self.o.worker_bind, "--sip-port",
                    str(self.worker_port(i)), "--cdr", str(self.o.cdr), "--metrics-port", str(metrics),
                    "--metrics-bind", self.o.worker_bind, "--media-bind", self.o.bind]
            child = Child(f"worker{i + 1}", argv, self.o.folder / f"worker{i + 1}.log", env=env,
                          forked=self.o.models_root is not None)
            child.start()
            self.workers.append(child)
        self.echo(f"starting {self.o.workers} workers on ports {self.worker_port(0)}-"
                  f"{self.worker_port(self.o.workers - 1)} ...")
        for i, child in enumerate(self.workers):
            self._wait_worker(i, child, timeout=240)
        cfg = render_kamailio(self.o.folder / "kamailio", self.o.bind, self.o.port,
                              [(self.o.worker_bind, self.worker_port(i)) for i in range(self.o.workers)],
                              self.o.front_door, self.o.line_calls, self.o.capacity)
        self.kamailio = kamailio_child(self.o.folder, cfg)
        self.kamailio.start()
        end = time.monotonic() + 20
        while not sip_options(self.o.bind, self.o.port):
            if not self.kamailio.alive or time.monotonic() > end:
                raise ClusterError(f"Kamailio did not start; see {self.kamailio.log}")
            time.sleep(0.2)

    def _wait_worker(self, i: int, child: Child, timeout: float) -> None:
        end = time.monotonic() + timeout
        while not sip_options(self.o.worker_bind, self.worker_port(i)):
            if not child.alive:
                raise ClusterError(f"{child.name} exited; see {child.log}")
            if time.monotonic() > end:
                raise ClusterError(f"{child.name} did not answer SIP within {timeout:.0f} s; see {child.log}")
            time.sleep(0.5)

    # -- run -------------------------------------------------------------------------------
    def run(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stopping.set())
        signal.signal(signal.SIGHUP, lambda *_: self.rolling.set())
        last_status = time.monotonic()
        while not self.stopping.wait(0.5):
            if self.rolling.is_set():
                self.rolling.clear()
                self.rolling_restart()
            for child in self.workers:
                if not child.alive and not self.stopping.is_set():
                    child.restarts += 1
                    self.echo(f"{child.name} exited ({child.proc.returncode}); restarting (restart {child.restarts})")
                    log.warning("%s exited with %s; restarting", child.name, child.proc.returncode)
                    child.start()
            if self.kamailio is not None and not self.kamailio.alive and not self.stopping.is_set():
                self.echo("Kamailio exited; restarting it")
                self.kamailio.start()
            for child in [*self.nlu, *([self.speech] if self.speech is not None else [])]:
                if not child.alive and not self.stopping.is_set():  # meanwhile turns fall back to the keys
                    child.restarts += 1
                    self.echo(f"{child.name} server exited ({child.proc.returncode}); restarting it")
                    log.warning("%s exited with %s; restarting", child.name, child.proc.returncode)
                    child.start()
            if time.monotonic() - last_status >= self.o.status_every_s:
                last_status = time.monotonic()
                self.echo(self.status())

    def rolling_restart(self) -> None:
        """Restart each worker in turn: it takes no new calls (the front door sends them to the others),
        ends when its last call does (at most ``DRAIN_S``), and is back before the next one goes."""
        for i, child in enumerate(self.workers):
            if self.stopping.is_set():
                return
            self.echo(f"rolling restart: draining {child.name}")
            log.info("rolling restart: draining %s", child.name)
            if child.alive:
                child.proc.send_signal(signal.SIGUSR2)
            end = time.monotonic() + DRAIN_S
            while child.alive and time.monotonic() < end and not self.stopping.is_set():
                time.sleep(0.5)
            if child.alive:
                child.stop(20)
            child.start()
            self._wait_worker(i, child, timeout=240)
            self.echo(f"rolling restart: {child.name} is back")
        self.echo("rolling restart done")

    def status(self) -> str:
        """One line: each worker's active calls (from its metrics) and restarts."""
        parts = []
        for child, port in zip(self.workers, self.metrics_ports, strict=True):
            active = "down"
            if child.alive:
                try:
                    text = urllib.request.urlopen(f"http://{self.o.worker_bind}:{port}/metrics",
                                                  timeout=1).read().decode()
                    m = re.search(r"^voicebot_calls_active (\d+)", text, re.M)
                    active = f"{m.group(1) if m else '?'} calls"
                except OSError:
                    active = "starting"
            parts.append(f"{child.name}: {active}, {child.restarts} restarts")
        return "cluster status: " + "; ".join(parts)

    def stop(self) -> None:
        if self.kamailio is not None:
            self.kamailio.stop(5)
        codes = [w.stop(20) for w in self.workers]
        for child in self.nlu:
            child.stop(20)
        if self.speech is not None:
            self.speech.stop(20)
        bad = [w.name for w, code in zip(self.workers, codes, strict=True) if code not in (0, None)]
        if bad:
            log.warning("workers that did not stop cleanly: %s", bad)
