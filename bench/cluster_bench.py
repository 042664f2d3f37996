"""Cluster capacity: how many concurrent speaking callers get every reply within 1 s on this machine.

Usage: .venv/bin/python bench/cluster_bench.py [--workers 6] [--steps 8,12,16,20,24] [--rounds 4]
Starts `voicebot cluster` (Kamailio + workers + one shared en-US Rasa server) on loopback and
loads it with bench/loadgen.py callers that alternate two spoken requests, their arrivals spread
over one speaking cycle (--no-spread: all at once, so they speak in step). For each step:
turn latency median / p95 / max, share of turns under 1 s, CPU of the whole cluster (share of
the machine's cores), the callers' own CPU (they share the machine with the cluster), the whole
machine's busy and hypervisor-stolen shares (was the machine short of CPU: runs minutes apart
differ), memory per worker, the shared NLU server's CPU and a parse's latency timed from the
callers' process (so it grows with theirs once the cores are full), and how far behind the
caller's audio the workers handled each reply's turn; then the time a call takes to be answered
right after a worker is killed. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadgen import LoadCall
from tests.sip import PROJECT, env_for, free_port, seeded_bank, write_config
from voicebot.cluster.calibration import cpu_model
from voicebot.nlu.server import bearer
from voicebot.speech.tts import Synthesizer
from voicebot.telephony.sipstack import SipSettings

TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu_and_rss(root: int) -> tuple[float, dict[int, float]]:
    """CPU seconds of ``root`` and all its descendants; RSS (MB) of each 'voicebot serve' among them."""
    total, rss, _ = tree_cpu(root)
    return total, rss


def tree_cpu(root: int) -> tuple[float, dict[int, float], float]:
    """``tree_cpu_and_rss``, and the CPU seconds of the shared NLU servers among them."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError):
            pass
    total, nlu, rss, todo = 0.0, 0.0, {}, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            seconds = (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) / TICK
            total += seconds
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            if " serve " in cmd:
                rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20
            elif "voicebot.nlu.server" in cmd:
                nlu += seconds
        except OSError:
            pass
    return total, rss, nlu


def behind_ms(log: Path, offset: int) -> list[int]:
    """How far behind the caller's audio each reply's turn was handled (the workers' ``behind_ms``),
    in the log written since ``offset``: a call whose thread cannot keep up shows here first."""
    try:
        with log.open("rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
    except OSError:
        return []
    return [int(x) for x in re.findall(r"turn reply_ms=\d+ behind_ms=(\d+)", text)]


def pss_mb(pid: int) -> float:
    """Proportional set size: pages shared with other processes (a forked worker's speech model)
    counted as a share, so that the workers' sum is what they really take."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in text.splitlines() if line.startswith("Pss:")), 0.0)


def machine_ticks() -> tuple[int, int, int]:
    """The machine's CPU ticks since boot from /proc/stat: (busy, steal, total)."""
    fields = Path("/proc/stat").read_text().split()[1:9]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in fields)
    busy = user + nice + system + irq + softirq
    return busy, steal, busy + idle + iowait + steal


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def nlu_token(cluster_pid: int) -> str:
    """The token the shared NLU server asks for: in the environment of the cluster's NLU child
    (readable by root or the same user only; it is on no command line)."""
    for child in Path(f"/proc/{cluster_pid}/task/{cluster_pid}/children").read_text().split():
        if "voicebot.nlu.server" not in Path(f"/proc/{child}/cmdline").read_bytes().decode():
            continue
        for item in Path(f"/proc/{child}/environ").read_bytes().decode(errors="replace").split("\0"):
            if item.startswith("VOICEBOT_NLU_TOKEN="):
                return item.split("=", 1)[1]
    return ""


def rasa_parse_ms(url: str, token: str = "", n: int = 30) -> float:
    times = []
    for i in range(n):
        body = json.dumps({"text": f"what is my account balance {i}"}).encode()
        t = time.perf_counter()
        urllib.request.urlopen(urllib.request.Request(f"{url}/model/parse", body, headers=bearer(token)),
                               timeout=10).read()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def _outcomes(cdr: Path) -> dict[str, str]:
    """Each caller's last CDR outcome (busy: refused with the busy message)."""
    time.sleep(2)  # the last CDR lines are written as the calls end
    out = {}
    for line in cdr.read_text().splitlines() if cdr.exists() else []:
        try:
            record = json.loads(line)
        except ValueError:  # a line still being written
            print(f"  (a CDR line that is not JSON yet: {line[:80]}...)")
            continue
        if record.get("caller"):
            out[record["caller"]] = record["outcome"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=None,
                    help="default: the cluster sizes itself from a measurement of this machine, with a line limit "
                         "(callers beyond it are refused and counted apart)")
    ap.add_argument("--calls", type=int, default=None,
                    help="the line's limit (voicebot cluster --calls): calls beyond it are refused")
    ap.add_argument("--steps", default="4,8,12,16,20,24")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--warmup", type=int, default=0, help="unmeasured rounds of 4 calls per worker first")
    ap.add_argument("--warm-up-s", type=float, default=20.0, help="prompt audio each worker decodes at start "
                    "(config [sip] warm_up_s: a new recogniser costs several times the CPU on its first turns)")
    ap.add_argument("--no-spread", dest="spread", action="store_false",
                    help="start the callers 50 ms apart (they then speak in step: a worst case) instead of "
                    "spreading their arrivals over one speaking cycle")
    ap.add_argument("--keep", action="store_true", help="keep the run's folder (logs, CDRs) and say where")
    ap.add_argument("--no-shared-model", dest="shared_model", action="store_false",
                    help="start each worker as a process of its own (each loads the speech model) instead of "
                         "forking them from the supervisor")
    ap.add_argument("--endpoint-ms", type=int, default=500, help="trailing silence that ends a caller's turn")
    ap.add_argument("--no-recording", dest="recording", action="store_false",
                    help="calls are not recorded ([recording] enabled = false): what recording costs")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cluster-bench-"))
    config = write_config(folder, seeded_bank(folder), (free_port(), free_port()), endpoint_ms=args.endpoint_ms,
                          warm_up_s=args.warm_up_s, recording=args.recording)
    synth = Synthesizer(sample_rate=8000)
    phrases = [synth.render("what is my account balance", "en-US"), synth.render("go back to the main menu", "en-US")]
    port = 27000 + os.getpid() % 1000 * 20
    cdr = folder / "cdr.jsonl"
    worker_log = folder / "voicebot.log"
    print(f"starting a cluster of {args.workers or 'self-sized'} workers in {folder} ...", flush=True)
    argv = [sys.executable, "-m", "voicebot", "cluster", *(["--workers", str(args.workers)] if args.workers else []),
            *(["--calls", str(args.calls)] if args.calls else []),
            "--sip-port", str(port), "--cdr", str(cdr), "--lang", "en-US", "--status-every", "3600"]
    proc = subprocess.Popen([*argv, *([] if args.shared_model else ["--no-shared-model"])], cwd=PROJECT,
                            env=env_for(config), stdout=subprocess.PIPE, stderr=open(folder / "cluster.err", "w"),
                            text=True, start_new_session=True)
    try:
        while True:
            if proc.poll() is not None:
                sys.exit(f"cluster exited: {(folder / 'cluster.err').read_text()[-2000:]}")
            if select.select([proc.stdout], [], [], 1)[0] and (line := proc.stdout.readline()).startswith("ready"):
                sized = dict(word.split("=", 1) for word in line.split() if "=" in word)
                args.workers, line_calls = int(sized["workers"]), int(sized.get("calls", 0))
                break
        nlu_log = (folder / "cluster.err").read_text()
        print("".join(f"  {line}\n" for line in nlu_log.splitlines() if line.startswith(("measured", "sizing"))),
              end="")
        print(f"the line admits {line_calls} calls on {args.workers} workers", flush=True)
        rasa_port = int(nlu_log.split("NLU server on port ")[1].split()[0])
        rasa_url = f"http://127.0.0.1:{rasa_port}"
        token = nlu_token(proc.pid)
        idle_ms = rasa_parse_ms(rasa_url, token)
        _, rss = tree_cpu_and_rss(proc.pid)
        print(f"endpoint silence {args.endpoint_ms} ms (part of every reply latency); calls "
              f"{'recorded' if args.recording else 'not recorded'}")
        pss = [pss_mb(pid) for pid in rss]
        print(f"machine: {cpu_model()}, {os.cpu_count()} cores; {args.workers} workers idle: RSS "
              f"{statistics.mean(rss.values()):.0f} MB each, PSS {statistics.mean(pss):.0f} MB each (shared pages "
              f"counted as a share), "
              f"the supervisor {pss_mb(proc.pid):.0f} MB; shared Rasa parse idle median {idle_ms:.1f} ms over HTTP")
        if args.warmup:
            print(f"warm-up: {args.warmup} round(s) of {4 * args.workers} calls, not measured", flush=True)
            warm = [LoadCall(("127.0.0.1", port), f"1380000{i:04d}", phrases, args.warmup)
                    for i in range(4 * args.workers)]
            for c in warm:
                c.start()
                time.sleep(0.1)
            for c in warm:
                c.join()
        cycle_s = sum(len(p) / 8000 + LoadCall.GAP_S for p in phrases)
        print(f"callers alternate {len(phrases)} phrases, one every {cycle_s / len(phrases):.1f} s; "
              + ("arrivals spread over one cycle" if args.spread else "all arriving at once (--no-spread)"))
        slots = SipSettings.max_calls * args.workers  # calls beyond these are refused (486)
        for n in [int(s) for s in args.steps.split(",")]:
            (cpu0, _, nlu0), t0, ticks0 = tree_cpu(proc.pid), time.monotonic(), machine_ticks()
            log_at = worker_log.stat().st_size if worker_log.exists() else 0
            own0 = time.process_time()  # this process: the callers (and a little bookkeeping)
            calls = [LoadCall(("127.0.0.1", port), f"1390000{n:02d}{i:02d}", phrases, args.rounds) for i in range(n)]
            for c in calls:  # arrivals spread over one speaking cycle, not all callers speaking in step
                c.start()
                time.sleep(cycle_s / n if args.spread else 0.05)
            time.sleep(3)
            loaded_ms = rasa_parse_ms(rasa_url, token, 10)
            peak_rss = tree_cpu_and_rss(proc.pid)[1]
            peak_pss = [pss_mb(pid) for pid in peak_rss]
            for c in calls:
                c.join()
            elapsed = time.monotonic() - t0
            cpu_now, _, nlu_now = tree_cpu(proc.pid)
            cpu, nlu_cpu = (cpu_now - cpu0) / elapsed, (nlu_now - nlu0) / elapsed
            behind = behind_ms(worker_log, log_at)
            callers_cpu = (time.process_time() - own0) / elapsed
            busy, steal, total = (b - a for a, b in zip(ticks0, machine_ticks(), strict=True))
            outcomes = _outcomes(cdr)
            told = [c for c in calls if outcomes.get(c.caller) == "busy"]  # heard "too many people are calling"
            status = [c for c in calls if c.stats.error and re.search(r"answered (486|503)", c.stats.error)]
            admitted = [c for c in calls if c not in told and c not in status]
            lat = [x for c in admitted for x in c.stats.latencies]
            failed = [c.stats.error for c in admitted if c.stats.error]
            expected = len(admitted) * args.rounds * len(phrases)
            if told or status:
                print(f"{n:3d} offered: {len(admitted)} admitted, refused {len(told)} with the busy message "
                      f"and {len(status)} with 486/503")
            if failed:
                print(f"{n:3d} offered: failed calls by reason: "
                      + ", ".join(f"{why} x{k}" for why, k in Counter(failed).most_common()))
            if not lat:
                print(f"{n:3d} calls: no replies measured")
                continue
            under = sum(x < 1.0 for x in lat) / expected
            print(f"{n:3d} calls: {len(lat)}/{expected} replies, median {statistics.median(lat) * 1000:.0f} ms, "
                  f"p95 {pct(lat, 0.95) * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms, {under:.0%} of turns under 1 s; "
                  f"cluster CPU {cpu * 100 / os.cpu_count():.0f}% of the machine "
                  f"({cpu * 100 / max(1, len(admitted)):.1f}% of a core per admitted call); "
                  f"worker RSS max {max(peak_rss.values()):.0f} MB, PSS max {max(peak_pss):.0f} MB; "
                  f"shared NLU server {nlu_cpu * 100:.0f}% of a core, a parse timed from the callers' "
                  f"process {loaded_ms:.1f} ms; calls behind their audio at a reply: median "
                  f"{statistics.median(behind or [0]):.0f} ms, max {max(behind or [0])} ms; failed calls {len(failed)}"
                  + (f" (more callers than the {slots} call slots)" if n > slots and not line_calls else "")
                  + f"; callers' CPU {callers_cpu * 100 / os.cpu_count():.0f}% of the machine; machine busy "
                  f"{busy / total:.0%} (the callers too), stolen by the hypervisor {steal / total:.1%}")
        # fail-over: kill a worker, time the next call's answer through the front door
        victim = next(iter(tree_cpu_and_rss(proc.pid)[1]))
        os.kill(victim, signal.SIGKILL)
        times = []
        for i in range(args.workers):
            call = LoadCall(("127.0.0.1", port), f"13988800{i:02d}", [], 0)
            call.start()
            call.join()
            times.append(call.stats.answer_s if call.stats.answer_s is not None else float("inf"))
        print(f"after a worker is killed: calls answered in median {statistics.median(times) * 1000:.0f} ms, "
              f"max {max(times) * 1000:.0f} ms (one call per worker slot in the rotation)")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(120)
        if args.keep:
            print(f"logs and CDRs kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
