"""Workers forked from the supervisor, sharing one copy of the speech model.

A Vosk model is about 124 MB of heap that never changes once loaded. The supervisor loads it
before it starts anything else, then forks each worker: the model's pages stay shared
between all of them (copy-on-write, never written), so N workers hold one model, not N.
A forked worker runs the same ``voicebot serve`` command line a separate process would, in a
session of its own, with its output in its log, and shows that command line in ps.

Fork only from a process with one thread: the supervisor forks before it starts threads, and
its own loop has none.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

log = logging.getLogger("voicebot.cluster")


def preload_speech_models(models_root: Path, langs: tuple[str, ...]) -> list[str]:
    """Load each language's Vosk model into this process (where there is one); returns those loaded."""
    from voicebot.speech.models import ModelUnavailable
    from voicebot.speech.recognizers import load_model

    loaded = []
    for lang in langs:
        try:
            load_model(models_root, lang)
            loaded.append(lang)
        except ModelUnavailable:
            continue
    return loaded


class ForkedProcess:
    """The part of ``subprocess.Popen`` the supervisor uses, for a forked child."""

    def __init__(self, pid: int, args: list[str]) -> None:
        self.pid, self.args = pid, args
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: gone, cause unknown
                self.returncode = -1
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if end is not None and time.monotonic() > end:
                raise subprocess.TimeoutExpired(self.args, timeout or 0.0)
            time.sleep(0.05)
        return self.returncode  # type: ignore[return-value]

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)


def can_fork() -> bool:
    """Forking is safe only with one thread (another might hold a lock the child would inherit)."""
    if threading.active_count() == 1:
        return True
    log.warning("this process has %d threads: the worker starts as a process of its own, without the shared "
                "speech model", threading.active_count())
    return False


def fork_command(argv: list[str], log_path: Path, env: dict[str, str], cwd: Path) -> ForkedProcess:
    """Run ``voicebot <argv>`` in a forked child (its own session, output to ``log_path``)."""
    out = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        os.close(out)
        return ForkedProcess(pid, ["voicebot", *argv])
    code = 1
    try:  # the child: never returns into the supervisor's code
        os.setsid()
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        sys.stdout = open(1, "w", buffering=1, encoding="utf-8", closefd=False)
        sys.stderr = open(2, "w", buffering=1, encoding="utf-8", closefd=False)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR2, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        import setproctitle  # before the environment changes: it finds the title's room next to it

        setproctitle.setproctitle(" ".join([sys.executable, "-m", "voicebot", *argv]))
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        import runpy

        sys.argv = ["voicebot", *argv]
        runpy.run_module("voicebot", run_name="__main__")  # as `python -m voicebot <argv>` would
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)
