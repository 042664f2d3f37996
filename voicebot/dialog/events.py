"""What a channel hands the dialog engine: caller speech, keys, silence, hang-up."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Speech:
    """Recognised caller speech (text from ASR, or typed in the text channel)."""

    text: str
    confidence: float = 1.0
    words: tuple[tuple[str, float], ...] = ()  # from ASR: each word with its confidence (typed text: none)
    # from ASR, when free recognition answered for an unsure step grammar: what that grammar heard
    # (at a card prompt, the digits a quiet caller's group gave before free recognition made "the" of it)
    grammar: Speech | None = None


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


def loggable(event: Event, *, secret: bool, number_entry: bool) -> str:
    """How an event appears in the log: a PIN step's keys and words withheld (typed at the wrong
    prompt they are as secret), card numbers masked, and at a long-number step every digit."""
    from voicebot.redact import redact

    if isinstance(event, Keys):
        return "keys=" + (f"<{len(event.digits)} keys withheld>" if secret else redact(event.digits, caller_input=True))
    if isinstance(event, Speech):
        return "speech=" + ("<withheld>" if secret else repr(redact(event.text, caller_input=True,
                                                                      number_entry=number_entry)))
    return f"event={type(event).__name__}"
