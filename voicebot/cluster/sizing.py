"""How many SIP workers a machine should run, from its cores and free memory.

The rule comes from measurements on a 2-core Xeon VM (``bench/cluster_bench.py``, README):
- call slots, not CPU, capped the cluster: a worker holds 4 calls (the pjsua2 wheel's limit);
- with the loadgen's mix of speaking callers, CPU per call is ``CORE_PER_CALL`` of one core,
  and every reply stays under 1 s, its median within 150 ms of the endpoint silence, while the
  cluster uses at most ``CPU_BUDGET`` of the machine (40 callers on 10 workers: 69%, median
  662 ms with a 500 ms endpoint; 48 callers on 13: 76%, median 694 ms and replies up to 1.04 s);
- workers forked from the cluster process share its speech model and imports (``SHARED_MB``,
  counted once); each then takes ``WORKER_MB`` of its own under load (PSS, 10 workers, 40
  callers: 181 MB at most). A worker started as a process of its own (``--no-shared-model``)
  takes ``SEPARATE_WORKER_MB`` (imports, the speech model, recognisers warmed for its calls).
  Each shared Rasa server takes ``NLU_SERVER_MB``.
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
WORKER_MB = 190  # a forked worker's own memory under load, its share of the shared pages included
SHARED_MB = 160  # the speech model (124 MB) and imports, one copy in the cluster process
SEPARATE_WORKER_MB = 340  # a worker that loads everything itself
NLU_SERVER_MB = 900
RESERVED_MB = 1024  # the system, Kamailio, the console


@dataclass(frozen=True)
class Sizing:
    workers: int
    by_cpu: int
    by_memory: int
    cores: int
    available_mb: int
    worker_mb: int = WORKER_MB

    def explain(self) -> str:
        return (f"{self.workers} worker{'s' if self.workers > 1 else ''} ({self.workers * CALLS_PER_WORKER} calls): "
                f"{self.cores} cores allow "
                f"{self.by_cpu} at {CORE_PER_CALL:.3f} of a core per call within {CPU_BUDGET:.0%} of the machine; "
                f"{self.available_mb} MB free allow {self.by_memory} at {self.worker_mb} MB each")


def size(cores: int, available_mb: int, nlu_servers: int = 2, shared_model: bool = True) -> Sizing:
    by_cpu = max(1, math.floor(cores * CPU_BUDGET / CORE_PER_CALL / CALLS_PER_WORKER + 1e-9))
    per_worker = WORKER_MB if shared_model else SEPARATE_WORKER_MB
    free = available_mb - RESERVED_MB - nlu_servers * NLU_SERVER_MB - (SHARED_MB if shared_model else 0)
    by_memory = max(1, free // per_worker)
    return Sizing(max(1, min(by_cpu, by_memory, 64)), by_cpu, int(by_memory), cores, available_mb, per_worker)


def this_machine(nlu_servers: int = 2, shared_model: bool = True) -> Sizing:
    """The sizing for the cores this process may use and the memory now available."""
    cores = len(os.sched_getaffinity(0))
    available_mb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            available_mb = int(line.split()[1]) // 1024
    return size(cores, available_mb, nlu_servers, shared_model)
