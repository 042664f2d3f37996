"""What a call costs on this machine, measured at start-up rather than assumed from its core count.

Two 2-core VMs can differ by half in what a call costs: the cluster was sized for 52 speaking
callers on the Xeon it was built on, and an EPYC VM's knee was between 34 and 40. The largest
part of a call's CPU is recognising the caller, so the cluster times this machine recognising
recorded prompt audio the way a call does (8 kHz frames through the voice-activity detector and
Vosk) and scales the per-call cost measured with the load generator on the reference machine
by the ratio. The figure is cached per CPU model and voicebot version (``var/capacity.json``),
and checked at every start with one short run: a VM moved to a busier or slower host keeps its
CPU model's name (a 2-core Xeon VM measured 0.058 one morning and 0.067 that evening, and a call
cost a quarter more), so a cache the check disagrees with by more than ``DRIFT`` is measured again.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from voicebot import __version__

log = logging.getLogger("voicebot.cluster")

# The reference: the 2-core AMD EPYC VM where CORE_PER_CALL (sizing.py) was measured with the load
# generator's mix of speaking callers (bench/cluster_bench.py). Its decode ratio is this module's
# own measurement there, taken as ``calibrate`` takes it (the least of RUNS runs): the median of
# eleven such figures over an hour, which ranged 0.069-0.092 (a noisy VM: a sizing may differ by
# a tenth from one measurement to the next; the cache keeps it steady between starts).
REFERENCE_CPU = "AMD EPYC"
REFERENCE_RATIO = 0.080  # CPU-seconds per second of prompt audio
AUDIO_S = 12.0  # prompt audio decoded per run: a few seconds of CPU
RUNS = 5  # the least of these counts (a run another process interrupted costs more)
KEEP_DAYS = 30
# a start's one-run check against the cache: beyond this (a run's own spread is a few percent;
# the least of RUNS is lower than one run by about as much) the machine is measured again
DRIFT = 0.12


@dataclass(frozen=True)
class Calibration:
    cpu: str
    version: str
    ratio: float  # CPU-seconds this machine spends recognising one second of caller audio
    measured_at: str

    @property
    def relative_cost(self) -> float:
        """A call's cost here relative to the reference machine (1.0: the same)."""
        return self.ratio / REFERENCE_RATIO

    def explain(self) -> str:
        return (f"this CPU ({self.cpu}) recognises speech at {self.ratio:.3f} CPU-s per second of audio, "
                f"{self.relative_cost:.2f}x the reference machine's cost per call")


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown CPU"


def measure(model: Any, prompts: list[Path], audio_s: float = AUDIO_S, runs: int = RUNS) -> float:
    """CPU-seconds per second of audio for a call's recogniser on ``model`` (Vosk), over ``prompts``."""
    from voicebot.speech.asr import StreamingRecognizer
    from voicebot.speech.audio import read_wav, resample

    rate, frame = 8000, 160
    audio: list[np.ndarray[Any, Any]] = []
    total = 0.0
    for path in prompts:
        samples, source_rate = read_wav(path)
        audio.append(resample(samples, source_rate, rate).astype(np.int16))
        total += len(audio[-1]) / rate
        if total >= audio_s:
            break
    if total < 1.0:
        raise ValueError("calibration needs at least a second of recorded prompt audio")
    quiet = np.zeros(rate // 2, np.int16)  # a caller's pause: each prompt ends as a turn does
    best = float("inf")
    for _ in range(runs):
        recognizer = StreamingRecognizer(model, rate)
        started = time.thread_time()
        for clip in audio:
            joined = np.concatenate([clip, quiet])
            for i in range(0, len(joined) - frame + 1, frame):
                recognizer.feed(joined[i:i + frame])
        best = min(best, time.thread_time() - started)
        recognizer.close()
    return best / total


def calibrate(model: Any, prompts: list[Path], cache: Path) -> Calibration:
    """This machine's calibration: from ``cache`` when it was made here by this version lately and a
    short run agrees with it, else measured (and cached)."""
    cpu = cpu_model()
    started = time.monotonic()
    try:
        found = Calibration(**json.loads(cache.read_text()))
        fresh = datetime.fromisoformat(found.measured_at) > datetime.now() - timedelta(days=KEEP_DAYS)
        if found.cpu == cpu and found.version == __version__ and fresh and found.ratio > 0:
            check = measure(model, prompts, runs=1)
            if abs(check / found.ratio - 1) <= DRIFT:
                return found
            log.warning("capacity calibration: this machine now measures %.4f against %.4f cached: measured again",
                        check, found.ratio)
    except (OSError, ValueError, TypeError):
        pass
    result = Calibration(cpu, __version__, measure(model, prompts), datetime.now().isoformat(timespec="seconds"))
    log.info("capacity calibration: ratio=%.4f relative=%.2f in %.1f s", result.ratio, result.relative_cost,
             time.monotonic() - started)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(asdict(result)))
    return result


def main() -> None:
    """Print this machine's decode ratio, five times as ``calibrate`` takes it (how REFERENCE_RATIO was taken)."""
    import statistics

    from voicebot.config import load_config
    from voicebot.speech.recognizers import load_model

    cfg = load_config()
    model = load_model(cfg.path("models"), "en-US")
    prompts = sorted((cfg.path("audio_prompts") / "en-US").glob("*.wav"))
    ratios = [measure(model, prompts) for _ in range(5)]
    print(f"{cpu_model()}: ratio median {statistics.median(ratios):.4f} (each the least of {RUNS} runs: "
          f"{', '.join(f'{r:.4f}' for r in ratios)}); {ratios[0] / REFERENCE_RATIO:.2f}x the reference")


if __name__ == "__main__":
    main()
