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


def test_a_cached_calibration_stands_only_while_a_short_check_agrees(tmp_path, monkeypatch) -> None:
    """A VM moved to a slower host keeps its CPU's name: the cache is checked, and measured again if it drifted."""
    from voicebot.cluster import calibration

    now = {"ratio": 0.060}
    asked: list[int] = []  # the runs each measurement was asked for

    def measure(model: object, prompts: object, audio_s: float = 12.0, runs: int = calibration.RUNS) -> float:
        asked.append(runs)
        return now["ratio"]

    monkeypatch.setattr(calibration, "measure", measure)
    cache = tmp_path / "capacity.json"
    first = calibration.calibrate(None, [], cache)
    assert first.ratio == 0.060 and asked == [calibration.RUNS] and cache.exists()
    now["ratio"] = 0.063  # within a run's spread: the cached figure stands, after one short run
    assert calibration.calibrate(None, [], cache) == first and asked[-1] == 1
    now["ratio"] = 0.060 * (1 + calibration.DRIFT) * 1.05  # the machine got slower
    slower = calibration.calibrate(None, [], cache)
    assert slower.ratio == now["ratio"] and asked[-2:] == [1, calibration.RUNS]
    assert calibration.calibrate(None, [], cache) == slower  # and that is what is cached now
    monkeypatch.setattr(calibration, "cpu_model", lambda: "another CPU")
    asked.clear()
    calibration.calibrate(None, [], cache)
    assert asked == [calibration.RUNS]  # a cache made on another CPU is not even checked
