"""`voicebot demo`: a newcomer's first look. The bot, an agent seat and a scripted caller on loopback.

The bot (`voicebot serve`) and the agent seat (`voicebot agent`) run as child processes; the
caller is this process's softphone. It asks for the balance by voice, keys in the demo card
and PIN, then asks for an agent, who answers after a ring. What the bot says (from its log)
and what the caller does are printed as they happen.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from voicebot.cluster.processes import free_port
from voicebot.config import Config

DEMO_CARD, DEMO_PIN = "6222020000000001", "135790"


def _config(folder: Path, cfg: Config, seat_port: int) -> Path:
    path = folder / "demo.toml"
    path.write_text(f"""base_dir = "{cfg.base_dir}"
[database]
url = "{cfg.database_url}"
[dialog]
default_language = "en-US"
default_region = "{cfg.region}"
[nlu]
backend = "{cfg.nlu.backend}"
models_dir = "{cfg.nlu.models_dir}"
[agents]
ring_s = 1.0
central = "sip:agents-central@127.0.0.1:{seat_port}"
[agents.regions.{cfg.region}]
uri = "sip:agents-{cfg.region}@127.0.0.1:{seat_port}"
[logging]
file = "{folder / 'voicebot.log'}"
""")
    return path


def _tail(log: Path, show: Callable[[str], None], stop: threading.Event) -> None:
    """Print the bot's spoken sentences and hand-overs from its log as they are written."""
    import json

    while not log.exists() and not stop.is_set():
        time.sleep(0.1)
    with open(log, encoding="utf-8", errors="replace") as f:
        while not stop.is_set():
            line = f.readline()
            if not line:
                time.sleep(0.05)
                continue
            if " action=" in line:
                action = json.loads(line.split(" action=", 1)[1])
                if action["type"] == "say":
                    show(f"bot    > {action['text']}")
                elif action["type"] == "transfer":
                    show(f"bot    > [hands over to {action['target']}: {action['reason']}]")
            elif "agent answered" in line or "did not answer" in line:
                show("system > " + line.split("voicebot.sip ", 1)[1].split(" ", 1)[1].strip())


def run_demo(cfg: Config, echo: Callable[[str], None]) -> int:
    from voicebot.speech.tts import Synthesizer
    from voicebot.telephony.softphone import Softphone, Step, run_script, save_wav

    folder = Path(tempfile.mkdtemp(prefix="voicebot-demo-"))
    seat_port, bot_port = free_port(), free_port()
    config = _config(folder, cfg, seat_port)
    env = {**os.environ, "VOICEBOT_CONFIG": str(config)}
    for key in ("VOICEBOT_DB_URL", "VOICEBOT_LOG_FILE", "VOICEBOT_NLU_BACKEND"):
        env.pop(key, None)
    me = [sys.executable, "-m", "voicebot"]
    echo(f"starting the bot on sip:95588@127.0.0.1:{bot_port} and an agent seat (logs in {folder}) ...")
    seat = subprocess.Popen([*me, "agent", "--sip-port", str(seat_port), "--ring-s", "1", "--hangup-after", "6"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bot = subprocess.Popen([*me, "serve", "--sip-port", str(bot_port), "--cdr", str(folder / "cdr.jsonl"),
                            "--metrics-port", "0"], env=env, stdout=subprocess.PIPE,
                           stderr=open(folder / "serve.err", "w"), text=True)
    stop = threading.Event()
    try:
        if not _wait_ready(bot, 240):
            echo(f"the bot did not start; see {folder / 'serve.err'}")
            return 1
        request = folder / "balance.wav"
        save_wav(request, Synthesizer(sample_rate=8000).render("what is my account balance", "en-US"))
        threading.Thread(target=_tail, args=(folder / "voicebot.log", echo, stop), daemon=True).start()

        def show(event: dict) -> None:
            if event["event"] == "step" and event["verb"] in ("play", "keys"):
                said = "(says) what is my account balance" if event["verb"] == "play" else f"(keys) {event['arg']}"
                echo(f"caller > {said}")
            elif event["event"] in ("connected", "disconnected"):
                echo(f"line   > {event['event']}")

        phone = Softphone(f"sip:95588@127.0.0.1:{bot_port}", caller="13800138000", emit=show)
        steps = [Step("wait", "3"), Step("play", str(request)), Step("wait", "2.5"), Step("keys", f"{DEMO_CARD}#"),
                 Step("wait", "1.5"), Step("keys", f"{DEMO_PIN}#"), Step("listen"), Step("keys", "0"),
                 Step("wait", "1"), Step("keys", "2"), Step("await-hangup")]
        try:
            run_script(phone, steps, timeout_s=150)
        finally:
            phone.close()
        time.sleep(1.0)
        cdr = folder / "cdr.jsonl"
        if cdr.exists():
            echo("CDR    > " + cdr.read_text().strip().splitlines()[-1])
        return 0
    finally:
        stop.set()
        for proc in (bot, seat):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in (bot, seat):
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_ready(proc: subprocess.Popen, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready and proc.stdout.readline().startswith("ready "):
            return True
    return False
