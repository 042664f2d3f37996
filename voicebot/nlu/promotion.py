"""Retrain a language into a candidate model and put it in place only if it is not worse.

"Not worse" is measured, on the data nobody trains on: the held-out set (intent and routing
accuracy) and the outside collections where there are some (how often the bot would act at once
and be right on a request for a service, and how often it would act on a wrong guess, everyday
requests we offer nothing for included). Every figure of the candidate must be at
least the current model's (wrong guesses at most). Running workers notice the new model file
and load it in the background (``RasaInProcess``); a refused candidate is deleted.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from voicebot.catalogue import catalogue
from voicebot.dialog.context import DialogSettings
from voicebot.nlu.data import load_examples
from voicebot.nlu.evaluation import evaluate
from voicebot.nlu.outside import load_outside, outside_files, score
from voicebot.nlu.training import NluPaths, train

CANDIDATES = "candidate"


@dataclass(frozen=True)
class Figures:
    heldout_intent: float
    heldout_service: float
    outside_acted: float | None = None
    outside_wrong: float | None = None

    def row(self) -> str:
        out = f"held-out {self.heldout_intent:.1%} intent, {self.heldout_service:.1%} routed"
        if self.outside_acted is not None:
            out += f"; outside {self.outside_acted:.1%} acted on, {self.outside_wrong:.1%} on a wrong guess"
        return out

    def not_worse_than(self, other: Figures) -> bool:
        ok = self.heldout_intent >= other.heldout_intent and self.heldout_service >= other.heldout_service
        acted, wrong = self.outside_acted, self.outside_wrong
        was_acted, was_wrong = other.outside_acted, other.outside_wrong
        if acted is not None and wrong is not None and was_acted is not None and was_wrong is not None:
            ok = ok and acted >= was_acted and wrong <= was_wrong
        return ok


@dataclass(frozen=True)
class Promotion:
    before: Figures | None
    after: Figures
    promoted: bool
    seconds: float


def figures(models_dir: Path, paths: NluPaths, lang: str, settings: DialogSettings) -> Figures:
    from voicebot.nlu.rasa_backend import RasaInProcess

    parser, cat = RasaInProcess(models_dir, settings), catalogue()
    ev, _, _ = evaluate(parser, lang, load_examples(paths.heldout(lang)), cat, settings)
    outside = [ex for path in outside_files(paths.root, lang) for ex in load_outside(path)]
    if not outside:
        return Figures(ev.intent_accuracy, ev.service_accuracy)
    acted, wrong = score(parser, lang, outside, cat, settings).rates()
    return Figures(ev.intent_accuracy, ev.service_accuracy, acted, wrong)


def retrain_guarded(paths: NluPaths, lang: str, settings: DialogSettings) -> Promotion:
    """Train a candidate beside the current model; replace the current one only if not worse."""
    current = paths.model(lang)
    before = figures(paths.models_dir, paths, lang, settings) if current.exists() else None
    candidate = NluPaths(paths.root, paths.models_dir / CANDIDATES)
    model, seconds = train(candidate, lang, force=True)
    after = figures(candidate.models_dir, paths, lang, settings)
    promoted = before is None or after.not_worse_than(before)
    if promoted:  # the stamp last: a model without its stamp is retrained, never trusted
        shutil.move(str(model), str(current))
        shutil.move(str(candidate.stamp(lang)), str(paths.stamp(lang)))
    else:
        model.unlink(missing_ok=True)
        candidate.stamp(lang).unlink(missing_ok=True)
    return Promotion(before, after, promoted, seconds or 0.0)
