"""From an intent and its confidence to the catalogue service the dialog acts on, or None."""

from __future__ import annotations

from voicebot.catalogue import Catalogue, catalogue
from voicebot.dialog.context import DialogSettings


def route(intent: str, confidence: float, settings: DialogSettings, cat: Catalogue | None = None) -> str | None:
    """Intents are named by service id; money-moving services need more confidence."""
    service = (cat or catalogue()).by_id.get(intent)
    if service is None:
        return None
    needed = settings.min_confidence_money if service.moves_money else settings.min_confidence
    return service.id if confidence >= needed else None
