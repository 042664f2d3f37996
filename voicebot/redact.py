"""Keeping secrets out of logs, tracebacks, transcripts, CDRs, the NLU and agent headers.

``redact`` is the one function every such path uses. Card and account numbers (12-19 digits)
keep their last four; a longer run of digits is masked whole (a card number and PIN keyed as
one entry must not leave the PIN's last digits); digits read aloud one by one are withheld.
What a caller keys or says (``caller_input``) is stricter: any run of four or more digits is
withheld, since a PIN said or keyed at the wrong prompt is as secret as at the right one.
"""

from __future__ import annotations

import logging
import re

CARD_DIGITS = (12, 19)
# digits in a row, or in groups split by one space or dash ('6222 0200 0000 0001')
_DIGIT_RUN = re.compile(r"(?<![\d*])\d(?:[ -]?\d)*(?![\d*])")
_DIGIT_WORD = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|double|triple|[零〇一幺二两三四五六七八九])"
_SPOKEN_LONG = re.compile(rf"(?<![a-z]){_DIGIT_WORD}(?:[\s,.-]*{_DIGIT_WORD}){{5,}}(?![a-z])", re.IGNORECASE)
_SPOKEN_ANY = re.compile(rf"(?<![a-z]){_DIGIT_WORD}(?:[\s,.-]*{_DIGIT_WORD})*(?![a-z])", re.IGNORECASE)
_SPOKEN_SHORT = re.compile(rf"(?<![a-z]){_DIGIT_WORD}(?:[\s,.-]*{_DIGIT_WORD}){{3,}}(?![a-z])", re.IGNORECASE)


def mask_card(number: str) -> str:
    """'6222020000000001' -> '************0001'; anything longer than a card number is masked whole."""
    digits = re.sub(r"\D", "", number)
    if len(digits) > CARD_DIGITS[1]:
        return "*" * len(digits)
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


def redact(text: str, *, caller_input: bool = False, number_entry: bool = False) -> str:
    """``text`` with card numbers masked to their last four, longer digit runs and spoken digit
    strings (six or more) withheld; with ``caller_input`` every run of four or more digits too;
    with ``number_entry`` (a number read out in groups, one turn each) every digit at all."""
    if number_entry:
        return _SPOKEN_ANY.sub("<digits>", re.sub(r"\d", "*", text))
    shortest = 4 if caller_input else CARD_DIGITS[0]

    def digits(m: re.Match[str]) -> str:
        run = m.group(0)
        n = sum(ch.isdigit() for ch in run)
        if n < shortest:
            return run
        if CARD_DIGITS[0] <= n <= CARD_DIGITS[1]:
            return mask_card(run)
        return "*" * n

    text = _DIGIT_RUN.sub(digits, text)
    return (_SPOKEN_SHORT if caller_input else _SPOKEN_LONG).sub("<digits>", text)


class RedactingFilter(logging.Filter):
    """A log filter that redacts every record, whatever logged it: message, traceback and stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:  # a traceback quotes values (SQL, card numbers)
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
