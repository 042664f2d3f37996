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


class RedactingFilter(logging.Filter):
    """A log filter that masks card-like numbers in every record, whatever logged it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_cards(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True
