"""Keeping secrets out of logs, transcripts and CDRs: card numbers masked to the last four."""

from __future__ import annotations

import logging
import re

_LONG_DIGITS = re.compile(r"(?<!\d)\d{12,19}(?!\d)")


def mask_card(number: str) -> str:
    """'6222020000000001' -> '************0001'."""
    return "*" * max(len(number) - 4, 0) + number[-4:]


def mask_cards(text: str) -> str:
    """Mask every run of 12-19 digits (card and account numbers) in free text."""
    return _LONG_DIGITS.sub(lambda m: mask_card(m.group(0)), text)


_SHORT_DIGITS = re.compile(r"(?<!\d)\d{4,11}(?!\d)")
_DIGIT_WORD = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|double|triple|[零〇一幺二两三四五六七八九])"
_SPOKEN_DIGITS = re.compile(rf"{_DIGIT_WORD}(?:\s*{_DIGIT_WORD}){{3,}}", re.IGNORECASE)


def mask_speech(text: str) -> str:
    """Caller speech for logs: card numbers masked, and any other run of four or more digits,
    typed or spoken digit by digit, withheld (a caller may say a PIN at the wrong prompt)."""
    text = _SHORT_DIGITS.sub(lambda m: "*" * len(m.group(0)), text)
    return _SPOKEN_DIGITS.sub("<digits>", mask_cards(text))


class RedactingFilter(logging.Filter):
    """A log filter that masks card-like numbers in every record, whatever logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_cards(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True
