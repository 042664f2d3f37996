"""Sizing a cluster from the machine: calls the cores and the memory allow, scaled by a call's measured cost."""

from __future__ import annotations

import math

from voicebot.cluster.sizing import CALLS_PER_WORKER, CORE_PER_CALL, CPU_BUDGET, WORKER_MB, size, this_machine


def test_cores_decide_on_a_machine_with_memory_to_spare() -> None:
    two, eight = size(2, 24_000), size(8, 64_000)
    assert two.calls == two.by_cpu < two.by_memory
    assert 4 * two.calls - 4 <= eight.calls <= 4 * two.calls + 4  # calls scale with the cores
    assert two.workers == math.ceil(two.calls / CALLS_PER_WORKER) + 1  # a worker's slots spare for the busy message
    assert "2 cores" in two.explain() and f"{two.calls} calls on {two.workers} workers" in two.explain()


def test_a_dearer_call_means_fewer_calls_on_the_same_cores() -> None:
    here, dearer = size(2, 24_000), size(2, 24_000, relative_cost=1.5)
    assert dearer.calls == math.floor(2 * CPU_BUDGET / (CORE_PER_CALL * 1.5)) < here.calls
    assert dearer.workers < here.workers and dearer.core_per_call > here.core_per_call


def test_memory_decides_on_a_small_machine_and_there_is_always_one_worker() -> None:
    tight = size(16, 6_000)
    assert tight.calls == tight.by_memory < tight.by_cpu
    assert size(16, 6_000 + 2 * WORKER_MB).calls == tight.calls + 2 * CALLS_PER_WORKER
    assert size(16, 6_000, shared_model=False).calls < tight.calls  # each worker loads its own model
    assert size(1, 100).workers >= 1 and size(1, 100).calls >= 1


def test_this_machine_is_read_from_the_system() -> None:
    here = this_machine()
    assert here.cores >= 1 and here.available_mb > 0 and here.workers >= 2
