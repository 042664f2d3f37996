"""The part of a caller's turn the intent classifier reads: past its opening, past a refusal."""

from __future__ import annotations

from voicebot.nlu.contrast import wanted_part
from voicebot.nlu.openings import request_part


def focus(text: str, lang: str) -> str:
    """'hi, yes, not my balance, I want my transactions' -> 'I want my transactions'."""
    return wanted_part(request_part(text, lang), lang)
