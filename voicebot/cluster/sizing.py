"""How many calls a machine should admit and how many SIP workers it runs for them.

The rule comes from measurements on a 2-core AMD EPYC VM (``bench/cluster_bench.py``, README):
- with the load generator's mix of speaking callers a call costs ``CORE_PER_CALL`` of one core
  (24 to 32 callers on 6 to 10 workers: 4.1-4.9% of a core per call, every reply under 1 s up
  to 28, median 590-610 ms with a 500 ms endpoint; 0.046 before the 40 ms media port; re-derived
  on another machine after later cuts, see the constant); at 32
  1% of replies pass 1 s, at 36 the shared Rasa server queues (parse 15 -> 259 ms) and 12% do:
  beyond ``CPU_BUDGET`` of the machine replies slow down for every caller;
- a call's cost differs between CPUs of the same core count: ``relative_cost`` (measured at
  start by ``calibration.py``) scales ``CORE_PER_CALL`` (on the Xeon VM the project began on,
  52 callers were served within the same budget);
- a worker holds 4 calls (the pjsua2 wheel's limit); workers forked from the cluster process
  share its speech model and imports (``SHARED_MB``, counted once) and one Whisper server for
  Mandarin (``SPEECH_SERVER_MB``); each then takes ``WORKER_MB`` of its own under load (PSS, 10
  workers, 34 callers: 337 MB at most while each held its own Whisper, which is 188 MB of it:
  an idle worker's PSS 379 -> 191 MB with the shared server, 3 workers). A worker started as a
  process of its own (``--no-shared-model``) loads every model itself and takes
  ``SEPARATE_WORKER_MB``. Each shared Rasa server takes ``NLU_SERVER_MB``.
The smaller of the CPU and memory answers wins. The line admits ``calls`` at once (the front
door turns more away); the workers hold them plus one worker's slots to spare, where callers
over the limit hear the busy message. ``voicebot cluster --calls`` or ``--workers`` overrides it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

CALLS_PER_WORKER = 4
# share of one core per speaking caller on the reference machine (the cluster's own CPU): 0.043
# measured there (32 callers: 1.38 cores) before the cuts of 2026-12-07 (README); after them, on
# the Xeon VM, 3.4% of a core per call (20 callers) with the calibration measured beside it at
# 0.83x the reference: 0.041 scaled back
CORE_PER_CALL = 0.041
CPU_BUDGET = 0.66  # of the machine: beyond it replies slow down (the callers' own CPU is not in it)
WORKER_MB = 160  # a forked worker's own memory under load, its share of the shared pages included
SHARED_MB = 160  # the speech model (124 MB) and imports, one copy in the cluster process
SPEECH_SERVER_MB = 300  # the shared Whisper server (211 MB idle), its decoding buffers included
SEPARATE_WORKER_MB = 500  # a worker that loads everything itself (RSS of a forked one under load: 498 MB)
NLU_SERVER_MB = 900
RESERVED_MB = 1024  # the system, Kamailio, the console


@dataclass(frozen=True)
class Sizing:
    workers: int
    calls: int  # the line's limit: calls in progress admitted at once
    by_cpu: int  # calls the cores allow
    by_memory: int  # calls the memory allows
    cores: int
    available_mb: int
    worker_mb: int = WORKER_MB
    core_per_call: float = CORE_PER_CALL

    def explain(self) -> str:
        return (f"{self.calls} calls on {self.workers} worker{'s' if self.workers > 1 else ''} "
                f"(one worker's slots spare for the busy message): {self.cores} cores allow {self.by_cpu} calls "
                f"at {self.core_per_call:.3f} of a core per call within {CPU_BUDGET:.0%} of the machine; "
                f"{self.available_mb} MB free allow {self.by_memory} at {self.worker_mb} MB per worker")


def size(cores: int, available_mb: int, nlu_servers: int = 2, shared_model: bool = True,
         relative_cost: float = 1.0) -> Sizing:
    """``relative_cost``: a call's CPU here against the machine ``CORE_PER_CALL`` was measured on."""
    per_call = CORE_PER_CALL * relative_cost
    by_cpu = max(1, math.floor(cores * CPU_BUDGET / per_call + 1e-9))
    per_worker = WORKER_MB if shared_model else SEPARATE_WORKER_MB
    free = (available_mb - RESERVED_MB - nlu_servers * NLU_SERVER_MB
            - (SHARED_MB + SPEECH_SERVER_MB if shared_model else 0))
    by_memory = max(1, (free // per_worker - 1) * CALLS_PER_WORKER)  # a worker's memory kept for the spare slots
    calls = max(1, min(by_cpu, by_memory, 63 * CALLS_PER_WORKER))
    workers = math.ceil(calls / CALLS_PER_WORKER) + 1
    return Sizing(workers, calls, by_cpu, int(by_memory), cores, available_mb, per_worker, per_call)


def this_machine(nlu_servers: int = 2, shared_model: bool = True, relative_cost: float = 1.0) -> Sizing:
    """The sizing for the cores this process may use and the memory now available."""
    cores = len(os.sched_getaffinity(0))
    available_mb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            available_mb = int(line.split()[1]) // 1024
    return size(cores, available_mb, nlu_servers, shared_model, relative_cost)
