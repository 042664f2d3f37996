"""Sizing a cluster from the machine (issue 21): the smaller of what the cores and the memory allow."""

from __future__ import annotations

from voicebot.cluster.sizing import CALLS_PER_WORKER, WORKER_MB, size, this_machine


def test_cores_decide_on_a_machine_with_memory_to_spare() -> None:
    two, eight = size(2, 24_000), size(8, 64_000)
    assert two.workers == two.by_cpu < two.by_memory
    assert 4 * two.workers <= eight.workers <= 4 * two.workers + 4  # calls scale with the cores
    assert "2 cores" in two.explain() and f"{two.workers * CALLS_PER_WORKER} calls" in two.explain()


def test_memory_decides_on_a_small_machine_and_there_is_always_one_worker() -> None:
    tight = size(16, 4_000)
    assert tight.workers == tight.by_memory < tight.by_cpu
    assert size(16, 4_000 + 2 * WORKER_MB).workers == tight.workers + 2
    assert size(16, 4_000, shared_model=False).workers < tight.workers  # each worker loads its own model
    assert size(1, 100).workers == 1


def test_this_machine_is_read_from_the_system() -> None:
    here = this_machine()
    assert here.cores >= 1 and here.available_mb > 0 and here.workers >= 1
