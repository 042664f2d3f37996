"""Browser phone benchmark: reply latency (end of the caller's speech to the bot's first audio) and
console CPU per browser call, with callers speaking in real time over the console's WebSocket.

Usage: .venv/bin/python bench/console_bench.py [--calls N] [--turns N]
Starts ``voicebot console`` on a copy of the demo bank; each call waits for the greeting to end,
says a request (espeak-ng), stays silent until the bot answers, and repeats. Then the same
requests as SIP calls to ``voicebot serve``, for the CPU per call side by side (a browser call's
audio is 16 kHz PCM over a WebSocket, a SIP call's 8 kHz G.711 over RTP).
Prints figures; asserts nothing. ``bench/sip_bench.py`` has SIP latency in more detail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

RATE, FRAME = 16000, 320
REQUESTS = ["what is my account balance", "i want to pay a bill", "what is the exchange rate for euros"]


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def one_call(url: str, speech: list[np.ndarray], latencies: list[float]) -> float:
    import aiohttp

    silence = np.zeros(FRAME, np.int16).tobytes()
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        await s.post(f"{url}/login", data={"name": "demo", "password": "demo-95588"}, allow_redirects=False)
        async with s.ws_connect(f"{url}/ws/phone") as ws:
            await ws.send_str(json.dumps({"type": "start", "lang": "en-US"}))
            last_audio = [time.monotonic()]
            waiting_since: list[float | None] = [None]

            async def reader() -> None:
                async for msg in ws:
                    if msg.type == aiohttp.WSMsgType.BINARY:
                        now = time.monotonic()
                        if waiting_since[0] is not None:
                            latencies.append(now - waiting_since[0])
                            waiting_since[0] = None
                        last_audio[0] = now

            task = asyncio.create_task(reader())
            started = time.monotonic()
            clock = time.monotonic()

            async def send(frame: bytes) -> None:
                nonlocal clock
                await ws.send_bytes(frame)
                clock += FRAME / RATE
                await asyncio.sleep(max(0.0, clock - time.monotonic()))  # real time, as a microphone

            for said in speech:
                while time.monotonic() - last_audio[0] < 1.0:  # the bot finishes speaking
                    await send(silence)
                for i in range(0, len(said) - FRAME + 1, FRAME):
                    await send(said[i:i + FRAME].tobytes())
                waiting_since[0] = time.monotonic()  # end of speech: the reply's clock starts
                for _ in range(int(6 * RATE / FRAME)):
                    await send(silence)
                    if waiting_since[0] is None:
                        break
            await ws.send_str(json.dumps({"type": "hangup"}))
            task.cancel()
            return time.monotonic() - started


async def run(url: str, calls: int, turns: int) -> tuple[list[float], float]:
    from voicebot.speech.tts import Synthesizer

    synth = Synthesizer(sample_rate=RATE)
    speech = [synth.render(REQUESTS[i % len(REQUESTS)], "en-US") for i in range(turns)]
    latencies: list[float] = []
    durations = await asyncio.gather(*(one_call(url, speech, latencies) for _ in range(calls)))
    return latencies, sum(durations)


def sip_cpu(calls: int, turns: int) -> tuple[float, float]:
    """Worker CPU seconds per second of SIP call, and the idle share, for the same requests."""
    from tests.sip import finish_call, free_port, seeded_bank, start_call, start_worker, write_config
    from voicebot.speech.tts import Synthesizer
    from voicebot.telephony.softphone import save_wav

    folder = Path(tempfile.mkdtemp(prefix="console-bench-sip-"))
    config = write_config(folder, seeded_bank(folder), (free_port(), free_port()))
    synth = Synthesizer(sample_rate=8000)
    steps = ["wait 2"]
    for i in range(turns):
        wav = folder / f"request-{i}.wav"
        save_wav(wav, synth.render(REQUESTS[i % len(REQUESTS)], "en-US"))
        steps.append(f"play {wav}; wait 5")
    worker = start_worker(folder, config)
    try:
        time.sleep(3)
        c0, t0 = cpu_s(worker.proc.pid), time.monotonic()
        time.sleep(5)
        idle = (cpu_s(worker.proc.pid) - c0) / (time.monotonic() - t0)
        c0, t0 = cpu_s(worker.proc.pid), time.monotonic()
        procs = [start_call(config, worker.uri, "; ".join([*steps, "hangup"]), caller=f"1390001{i:04d}")
                 for i in range(calls)]
        [finish_call(p) for p in procs]
        elapsed = time.monotonic() - t0
        used = cpu_s(worker.proc.pid) - c0 - idle * elapsed
        return used / (elapsed * calls), idle
    finally:
        worker.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=2, help="concurrent browser calls")
    ap.add_argument("--turns", type=int, default=3, help="requests per call")
    args = ap.parse_args()
    from bench.nlu_bench import machine

    folder = Path(tempfile.mkdtemp(prefix="console-bench-"))
    db = PROJECT / "var" / "voicebot.db"
    shutil.copy(db, folder / "bank.db")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "VOICEBOT_DB_URL": f"sqlite:///{folder / 'bank.db'}",
           "VOICEBOT_LOG_FILE": str(folder / "voicebot.log")}
    proc = subprocess.Popen([sys.executable, "-m", "voicebot", "console", "--port", str(port), "--cdr",
                             str(folder / "cdr.jsonl")], env=env, stderr=subprocess.DEVNULL, cwd=PROJECT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(180):
            try:
                urllib.request.urlopen(f"{url}/login", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        time.sleep(3)
        c0, t0 = cpu_s(proc.pid), time.monotonic()
        time.sleep(5)
        idle = (cpu_s(proc.pid) - c0) / (time.monotonic() - t0)
        c0, t0 = cpu_s(proc.pid), time.monotonic()
        latencies, call_s = asyncio.run(run(url, args.calls, args.turns))
        used = cpu_s(proc.pid) - c0 - idle * (time.monotonic() - t0)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(f"machine: {machine()}")
    print(f"{args.calls} concurrent browser calls x {args.turns} spoken requests (espeak-ng), real-time audio")
    if latencies:
        ms = sorted(x * 1000 for x in latencies)
        print(f"  reply latency, end of speech to the bot's first audio: median {statistics.median(ms):.0f} ms, "
              f"max {ms[-1]:.0f} ms ({len(ms)} replies; the endpoint waits 700 ms of silence)")
    print(f"  console CPU per browser call: {used / call_s * 1000:.0f} ms per second of call "
          f"({used / call_s:.1%} of one core; idle console {idle:.1%} subtracted)")
    sip, sip_idle = sip_cpu(args.calls, args.turns)
    print(f"  SIP worker CPU per SIP call, same requests: {sip * 1000:.0f} ms per second of call "
          f"({sip:.1%} of one core; idle worker {sip_idle:.1%} subtracted)")
    print(f"  browser call / SIP call CPU: {used / call_s / sip:.2f}")


if __name__ == "__main__":
    main()
