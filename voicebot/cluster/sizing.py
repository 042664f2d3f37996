"""How many SIP workers a machine should run, from its cores and free memory.

The rule comes from measurements on a 2-core Xeon VM (``bench/cluster_bench.py``, README):
- call slots, not CPU, capped the cluster: a worker holds 4 calls (the pjsua2 wheel's limit);
- with the loadgen's mix of speaking callers, CPU per call is ``CORE_PER_CALL`` of one core,
  and every reply stays under 1 s, its median within 150 ms of the endpoint silence, while the
  cluster uses at most ``CPU_BUDGET`` of the machine (40 callers on 12 workers: 65%, median
  652 ms with a 500 ms endpoint; 48 callers: 74%, median 695 ms and one reply at 1.14 s);
- a worker is ``WORKER_MB`` at rest (imports 70 MB, the speech model 175 MB, recognisers warmed
  for its calls 90 MB), and each shared Rasa server ``NLU_SERVER_MB``.
The smaller of the CPU and memory answers wins; ``voicebot cluster --workers`` overrides it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

CALLS_PER_WORKER = 4
CORE_PER_CALL = 0.033  # share of one core per speaking caller, the cluster's own (40 callers: 1.3 cores)
CPU_BUDGET = 0.66  # of the machine: beyond it replies slow down (the callers' own CPU is not in it)
WORKER_MB = 360
NLU_SERVER_MB = 900
RESERVED_MB = 1024  # the system, Kamailio, the console


@dataclass(frozen=True)
class Sizing:
    workers: int
    by_cpu: int
    by_memory: int
    cores: int
    available_mb: int

    def explain(self) -> str:
        return (f"{self.workers} worker{'s' if self.workers > 1 else ''} ({self.workers * CALLS_PER_WORKER} calls): "
                f"{self.cores} cores allow "
                f"{self.by_cpu} at {CORE_PER_CALL:.3f} of a core per call within {CPU_BUDGET:.0%} of the machine; "
                f"{self.available_mb} MB free allow {self.by_memory} at {WORKER_MB} MB each")


def size(cores: int, available_mb: int, nlu_servers: int = 2) -> Sizing:
    by_cpu = max(1, math.floor(cores * CPU_BUDGET / CORE_PER_CALL / CALLS_PER_WORKER + 1e-9))
    by_memory = max(1, (available_mb - RESERVED_MB - nlu_servers * NLU_SERVER_MB) // WORKER_MB)
    return Sizing(max(1, min(by_cpu, by_memory, 64)), by_cpu, int(by_memory), cores, available_mb)


def this_machine(nlu_servers: int = 2) -> Sizing:
    """The sizing for the cores this process may use and the memory now available."""
    cores = len(os.sched_getaffinity(0))
    available_mb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            available_mb = int(line.split()[1]) // 1024
    return size(cores, available_mb, nlu_servers)
