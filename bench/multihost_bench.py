"""The line on several hosts under load: front door, two worker hosts, NLU and database hosts.

The hosts are network namespaces built as tests/netns.py builds them (each role from its
systemd unit with its host's file from deploy/hosts/). Speaking callers on the caller host
(bench/loadgen.py) alternate two spoken requests through the front door. Per step: replies
under 1 s, median, p95 and max (from the end of the caller's words; the 700 ms endpoint of
the host files is in them), how the calls split over the two worker hosts (their CDRs in the
one database), and the CPU each host used. Needs root. Asserts nothing.

    .venv/bin/python -m bench.multihost_bench [--steps 4,8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.netns import HOSTS, Lab, NamespacesUnavailable, start_line

PROJECT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")


def host_cpu_s(ns: str) -> float:
    """CPU seconds used so far by the processes running in a host (namespace)."""
    pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split()
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total / TICK


def callers(n: int, rounds: int, prefix: str) -> None:
    """In the caller host: ``n`` speaking callers through the front door; one JSON line of results."""
    from bench.loadgen import LoadCall
    from voicebot.speech.tts import Synthesizer

    synth = Synthesizer(sample_rate=8000)
    phrases = [synth.render("what is my account balance", "en-US"), synth.render("go back to the main menu", "en-US")]
    cycle_s = sum(len(p) / 8000 + LoadCall.GAP_S for p in phrases)
    calls = [LoadCall((HOSTS["front"], 5060), f"{prefix}{i:02d}", phrases, rounds, local_ip=HOSTS["caller"])
             for i in range(n)]
    for c in calls:  # arrivals spread over one speaking cycle
        c.start()
        time.sleep(cycle_s / n)
    for c in calls:
        c.join()
    print(json.dumps({"latencies": [x for c in calls for x in c.stats.latencies],
                      "errors": [c.stats.error for c in calls if c.stats.error],
                      "expected": n * rounds * len(phrases)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", default="4,8", help="concurrent callers per step")
    ap.add_argument("--rounds", type=int, default=3, help="times each caller says both requests")
    ap.add_argument("--callers", type=int, default=None, help=argparse.SUPPRESS)  # the caller host's part
    ap.add_argument("--prefix", default="1390000", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.callers is not None:
        return callers(args.callers, args.rounds, args.prefix)
    try:
        Lab.check()
    except NamespacesUnavailable as exc:
        sys.exit(f"cannot build the hosts here: {exc}")
    folder = Path(tempfile.mkdtemp(prefix="multihost-bench-"))
    print(f"building the hosts and starting the line in {folder} ...", flush=True)
    started = time.monotonic()
    lab, pg = start_line(folder)
    print(f"line up in {time.monotonic() - started:.0f} s: caller {HOSTS['caller']} -> front door "
          f"{HOSTS['front']} -> workers {HOSTS['worker1']}, {HOSTS['worker2']}; NLU {HOSTS['nlu']}; "
          f"PostgreSQL {HOSTS['db']}", flush=True)
    try:
        for step, n in enumerate(int(s) for s in args.steps.split(",")):
            prefix = f"13{step:02d}000"
            cpu0 = {name: host_cpu_s(host.ns) for name, host in lab.hosts.items()}
            t0 = time.monotonic()
            run = lab["caller"].run([sys.executable, "-m", "bench.multihost_bench", "--callers", str(n), "--rounds",
                                     str(args.rounds), "--prefix", prefix], cwd=PROJECT, timeout=600)
            elapsed = time.monotonic() - t0
            cpu = {name: (host_cpu_s(host.ns) - cpu0[name]) / elapsed for name, host in lab.hosts.items()}
            lines = [line for line in run.stdout.splitlines() if line.startswith("{")]
            if not lines:
                print(f"{n} callers: the caller host failed: {run.stderr[-1500:]}")
                continue
            result = json.loads(lines[-1])
            lat = sorted(result["latencies"])
            time.sleep(3)  # the last CDRs reach the database
            split = dict(pg.query("voicebot", "SELECT worker, count(*) FROM cdrs WHERE body LIKE %s GROUP BY worker",
                                  f'%"caller": "{prefix}%'))
            if not lat:
                print(f"{n} callers: no replies measured; errors {result['errors'][:3]}")
                continue
            print(f"{n:3d} callers: {len(lat)}/{result['expected']} replies, "
                  f"{sum(x < 1.0 for x in lat) / result['expected']:.0%} under 1 s; median "
                  f"{statistics.median(lat) * 1000:.0f} ms, p95 {lat[int(0.95 * (len(lat) - 1))] * 1000:.0f} ms, "
                  f"max {lat[-1] * 1000:.0f} ms; calls per worker host {split}; CPU per host (share of one core) "
                  + ", ".join(f"{k} {v:.0%}" for k, v in cpu.items() if k != "caller")
                  + f"; failed calls {len(result['errors'])}", flush=True)
    finally:
        lab.down()
        pg.stop()


if __name__ == "__main__":
    main()
