"""What a channel hands the dialog engine: caller speech, keys, silence, hang-up."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Speech:
    """Recognised caller speech (text from ASR, or typed in the text channel)."""

    text: str
    confidence: float = 1.0


@dataclass(frozen=True)
class Keys:
    """DTMF key presses: one key at a menu, or a whole entry such as a card number."""

    digits: str


@dataclass(frozen=True)
class NoInput:
    """The caller said and pressed nothing before the prompt's timeout."""


@dataclass(frozen=True)
class HangUp:
    """The caller hung up."""


Event = Speech | Keys | NoInput | HangUp
