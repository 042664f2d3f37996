"""Checks a trainer runs before training: duplicates, conflicts, thin intents, catalogue coverage."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from voicebot.catalogue import Catalogue
from voicebot.nlu.data import Example

MIN_EXAMPLES = 25


@dataclass(frozen=True)
class Problem:
    severity: str  # error | warning
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


def expected_intents(cat: Catalogue) -> set[str]:
    """Every catalogue service id, family intent and conversation id must have an intent."""
    return {s.id for s in cat.services} | {i.id for i in cat.intents} | set(cat.family_by_intent)


def validate(train: list[Example], heldout: list[Example], cat: Catalogue) -> list[Problem]:
    problems: list[Problem] = []
    by_text: dict[str, set[str]] = defaultdict(set)
    counts: Counter[tuple[str, str]] = Counter()
    for ex in train:
        by_text[ex.text.lower()].add(ex.intent)
        counts[(ex.text.lower(), ex.intent)] += 1
    for (text, intent), n in sorted(counts.items()):
        if n > 1:
            problems.append(Problem("warning", f"{intent}: {text!r} appears {n} times"))
    for text, intents in sorted(by_text.items()):
        if len(intents) > 1:
            problems.append(Problem("error", f"{text!r} is an example of {', '.join(sorted(intents))}"))
    per_intent = Counter(ex.intent for ex in train)
    wanted = expected_intents(cat)
    for intent in sorted(wanted):
        if per_intent[intent] == 0:
            problems.append(Problem("error", f"catalogue id {intent} has no intent in the data"))
        elif per_intent[intent] < MIN_EXAMPLES:
            problems.append(Problem("error", f"{intent} has {per_intent[intent]} examples; at least {MIN_EXAMPLES}"))
    for intent in sorted(set(per_intent) - wanted):
        problems.append(Problem("error", f"intent {intent} is not a catalogue id"))
    trained = set(by_text)
    for ex in heldout:
        if ex.text.lower() in trained:
            problems.append(Problem("error", f"held-out {ex.text!r} is also training data"))
        if ex.intent not in wanted:
            problems.append(Problem("error", f"held-out intent {ex.intent} is not a catalogue id"))
    return problems
