"""SIP turn latency: from the end of a caller's words to the first audio of the bot's reply, as the caller hears it.

Usage: .venv/bin/python bench/sip_bench.py [--rounds 4] [--endpoint-ms 700]
Starts one `voicebot serve` worker (real Rasa and Vosk) and pjsua2 softphones in their own
processes on loopback; each call alternates two spoken requests several times. Runs 1 call,
then 4 concurrent calls. Prints median and 95th percentile latency, the worker's CPU (share of
one core) and memory, per call. The endpoint silence (how long the caller must be quiet before
a turn ends) is part of every latency: it is printed too. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.sip import Worker, finish_call, free_port, seeded_bank, start_call, start_worker, write_config
from voicebot.cluster.calibration import cpu_model
from voicebot.speech.tts import Synthesizer
from voicebot.telephony.softphone import save_wav

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(n_calls: int, worker: Worker, config: Path, script: str) -> tuple[list[float], float, float]:
    pid = worker.proc.pid
    cpu0, t0 = cpu_s(pid), time.monotonic()
    procs = [start_call(config, worker.uri, script, caller=f"1390000{n_calls}{i:03d}", timeout=240)
             for i in range(n_calls)]
    peak = 0.0
    while any(p.poll() is None for p in procs):
        peak = max(peak, rss_mb(pid))
        time.sleep(0.5)
    results = [finish_call(p, 240) for p in procs]
    cpu = (cpu_s(pid) - cpu0) / (time.monotonic() - t0)
    latencies = [e["latency_s"] for r in results for e in r.events if e["event"] == "reply"]
    return latencies, cpu, peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=4, help="request pairs per call")
    ap.add_argument("--endpoint-ms", type=int, default=700, help="trailing silence that ends a turn")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="sip-bench-"))
    config = write_config(folder, seeded_bank(folder), (free_port(), free_port()), endpoint_ms=args.endpoint_ms)
    synth = Synthesizer(sample_rate=8000)
    wavs = {}
    for name, text in {"balance": "what is my account balance", "menu": "go back to the main menu"}.items():
        wavs[name] = folder / f"{name}.wav"
        save_wav(wavs[name], synth.render(text, "en-US"))
    steps = ["wait 2"] + [f"play {wavs['balance']}; wait 3.5; play {wavs['menu']}; wait 3.5"] * args.rounds
    script = "; ".join([*steps, "hangup"])
    print(f"starting a worker (Rasa + Vosk load) in {folder} ...", flush=True)
    worker = start_worker(folder, config)
    try:
        idle = rss_mb(worker.proc.pid)
        print(f"machine: {cpu_model()}, {os.cpu_count()} cores; worker idle RSS {idle:.0f} MB; "
              f"endpoint {args.endpoint_ms} ms")
        for n in (1, 4):
            latencies, cpu, peak = run(n, worker, config, script)
            if not latencies:
                print(f"{n} call(s): no replies measured (see {worker.log})")
                continue
            print(f"{n} concurrent call(s): {len(latencies)} turns, reply latency median "
                  f"{statistics.median(latencies) * 1000:.0f} ms, p95 {pct(latencies, 0.95) * 1000:.0f} ms "
                  f"(of which endpoint silence {args.endpoint_ms} ms); worker CPU {cpu * 100:.0f}% of a core "
                  f"({cpu * 100 / n:.0f}% per call); peak RSS {peak:.0f} MB (+{(peak - idle) / n:.0f} MB per call)")
    finally:
        worker.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
