"""The seam between the dialog and whatever understands speech text (keywords now, Rasa next)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

#: Intents that name no service: the classifier's out-of-scope class and Rasa's fallback.
NOT_A_REQUEST = ("nlu_fallback", "out_of_scope")


class NluUnavailable(RuntimeError):
    """The NLU back end cannot answer (not loaded, server down, timeout)."""


@dataclass(frozen=True)
class NluResult:
    text: str
    intent: str
    confidence: float
    service: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    #: the classifier's best guesses, most likely first: (intent, confidence); fallback excluded
    ranking: tuple[tuple[str, float], ...] = ()

    def entity(self, name: str) -> Any:
        return next((e["value"] for e in self.entities if e["entity"] == name), None)

    def to_json(self, ranking: bool = False) -> dict[str, Any]:
        """The ``nlu parse`` contract; ``ranking`` adds the three best guesses (for trainers)."""
        out = {"text": self.text, "intent": self.intent, "confidence": round(self.confidence, 4),
               "service": self.service, "entities": self.entities}
        if ranking:
            out["ranking"] = [{"intent": i, "confidence": round(c, 4)} for i, c in self.ranking[:3]]
        return out


class Parser(Protocol):
    def parse(self, text: str, lang: str) -> NluResult: ...
