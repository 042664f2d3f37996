"""The seam between the dialog and whatever understands speech text (keywords now, Rasa next)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class NluUnavailable(RuntimeError):
    """The NLU back end cannot answer (not loaded, server down, timeout)."""


@dataclass(frozen=True)
class NluResult:
    text: str
    intent: str
    confidence: float
    service: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)

    def entity(self, name: str) -> Any:
        return next((e["value"] for e in self.entities if e["entity"] == name), None)

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "intent": self.intent, "confidence": round(self.confidence, 4),
                "service": self.service, "entities": self.entities}


class Parser(Protocol):
    def parse(self, text: str, lang: str) -> NluResult: ...
