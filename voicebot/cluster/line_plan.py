"""How many calls the line admits and how many workers hold them: measured, configured or given.

``--calls N`` (or ``[capacity] max_calls``) sets the line's limit; otherwise this machine's cost
of a call is measured (``calibration.py``, cached) and the limit follows from its cores and
memory (``sizing.py``). ``--workers N`` alone keeps the operator's choice: N workers, every
slot admitted, no line limit at the front door.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from voicebot.cluster.calibration import calibrate
from voicebot.cluster.sizing import CALLS_PER_WORKER, this_machine
from voicebot.config import Config

log = logging.getLogger("voicebot.cluster")


def plan_line(cfg: Config, echo: Callable[[str], None], *, calls: int | None, workers: int | None,
              nlu_servers: int, shared_model: bool) -> tuple[int, int]:
    """(workers, the line's call limit; 0: no limit), said in ``echo`` lines."""
    calls = calls or cfg.capacity.max_calls or None
    if calls is None and workers is not None:
        echo(f"{workers} workers as asked: every call slot is admitted ({workers * CALLS_PER_WORKER} calls)")
        return workers, 0
    if calls is None:
        relative = 1.0
        try:
            from voicebot.speech.recognizers import load_model

            prompts = sorted((cfg.path("audio_prompts") / "en-US").glob("*.wav"))
            calibration = calibrate(load_model(cfg.path("models"), "en-US"), prompts, cfg.path("var/capacity.json"))
            relative = calibration.relative_cost
            echo(f"measured: {calibration.explain()}")
        except Exception as exc:  # no model or prompts yet: the reference machine's figure, said plainly
            echo(f"warning: could not measure this machine ({exc}); sizing as the reference machine")
            log.warning("capacity calibration failed: %s", exc)
        sizing = this_machine(nlu_servers=nlu_servers, shared_model=shared_model, relative_cost=relative)
        echo(f"sizing: {sizing.explain()} (--calls or --workers overrides)")
        return workers or sizing.workers, sizing.calls
    needed = math.ceil(calls / CALLS_PER_WORKER) + 1  # one worker's slots spare for the busy message
    if workers is not None and workers < needed:
        echo(f"warning: {workers} workers hold {workers * CALLS_PER_WORKER} calls; the line admits {calls}, "
             f"so callers over the slots left get 486 rather than the busy message")
    workers = workers or needed
    echo(f"the line admits {calls} calls on {workers} workers (callers beyond hear: "
         f"{cfg.capacity.busy if cfg.capacity.busy != 'message' else 'the busy message'})")
    return workers, calls
