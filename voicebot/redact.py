"""Keeping secrets out of logs, tracebacks, transcripts, CDRs, the NLU and agent headers.

``redact`` is the one function every such path uses. Card and account numbers (12-19 digits)
keep their last four, also as the bot reads them back in groups; a longer run of digits is
masked whole (a card number and PIN keyed as one entry must not leave the PIN's last digits);
digits read aloud one by one are withheld.
What a caller keys or says (``caller_input``) is stricter: any run of four or more digits is
withheld, since a PIN said or keyed at the wrong prompt is as secret as at the right one.
Digits read aloud count however they are grouped: one by one, in pairs or tens ("twelve
thirty-four fifty-six", 十二三十四五十六), with "double", or with a filler word between them;
written digits count across commas too. What goes to the NLU (``for_nlu``) also loses a
PIN-like run of six or more digits, unless a currency names it as an amount.
"""

from __future__ import annotations

import logging
import re

CARD_DIGITS = (12, 19)
# digits in a row, or in groups split by one space, dash or comma, or by a comma and a space as the bot
# reads a number back ('6 2 2 2, 0 2 0 0, ...'; Chinese '，')
_DIGIT_RUN = re.compile(r"(?<![\d*])\d(?:(?:[ ,，-]|, )?\d)*(?![\d*])")
_UNITS = "zero|oh|one|two|three|four|five|six|seven|eight|nine"
_TEENS_TENS = ("ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|"
               "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety")
_DIGIT_WORD = rf"(?:{_UNITS}|{_TEENS_TENS}|double|triple|[零〇一幺二两三四五六七八九十])"
_FILLER = r"(?:[\s,.，、-]+(?:and|then|uh|um|er|erm|dash|呃|嗯|然后|和)(?![a-z]))?"
_SPOKEN_ANY = re.compile(rf"(?<![a-z]){_DIGIT_WORD}(?:{_FILLER}[\s,.，、-]*{_DIGIT_WORD})*(?![a-z])", re.IGNORECASE)
_TOKEN = re.compile(rf"{_TEENS_TENS}|{_UNITS}|double|triple|[零〇一幺二两三四五六七八九十]", re.IGNORECASE)
_TENS = frozenset("twenty thirty forty fifty sixty seventy eighty ninety".split())
_TWO_DIGITS = frozenset(_TEENS_TENS.split("|"))  # 'twelve', 'thirty': two digits each
_ONE_TO_NINE = frozenset(_UNITS.split("|")[2:])
# a currency next to a number makes it an amount (kept for the NLU), not a PIN
_CURRENCY = re.compile(r"yuan|rmb|renminbi|kuai|dollars?|usd|hkd|euros?|eur|yen|jpy|pounds?|gbp|bucks|"
                       r"[元块¥$€£]|人民币|美元|美金|港币|港元|欧元|日元|英镑", re.IGNORECASE)


def spoken_digits(run: str) -> int:
    """How many digits a run of number words says: 'six two' 2, 'twelve thirty-four' 4, 'double five'
    2, '十二三十四' 5 (each Chinese character counts one: never fewer than it says)."""
    tokens = [t.lower() for t in _TOKEN.findall(run)]
    count = 0
    for i, tok in enumerate(tokens):
        if tok == "double":
            count += 1
        elif tok == "triple":
            count += 2
        elif tok in _TENS and i + 1 < len(tokens) and tokens[i + 1] in _ONE_TO_NINE:
            count += 1  # 'thirty-four': the unit that follows gives the second digit
        else:
            count += 2 if tok in _TWO_DIGITS else 1
    return count


def mask_card(number: str) -> str:
    """'6222020000000001' -> '************0001'; anything longer than a card number is masked whole."""
    digits = re.sub(r"\D", "", number)
    if len(digits) > CARD_DIGITS[1]:
        return "*" * len(digits)
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


def redact(text: str, *, caller_input: bool = False, number_entry: bool = False, for_nlu: bool = False) -> str:
    """``text`` with card numbers masked to their last four, longer digit runs and spoken digit
    strings (six or more) withheld; with ``caller_input`` every run of four or more digits too;
    with ``number_entry`` (a number read out in groups, one turn each) every digit at all; with
    ``for_nlu`` a PIN-like run of six or more digits that no currency names as an amount."""
    if number_entry:
        return _SPOKEN_ANY.sub("<digits>", re.sub(r"\d", "*", text))
    if for_nlu:
        text = _DIGIT_RUN.sub(lambda m: "<digits>" if 6 <= sum(ch.isdigit() for ch in m.group(0)) < CARD_DIGITS[0]
                              and not _near_currency(text, m) else m.group(0), text)
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
    spoken_shortest = 4 if caller_input else 6
    return _SPOKEN_ANY.sub(lambda m: "<digits>" if spoken_digits(m.group(0)) >= spoken_shortest else m.group(0),
                           text)


def _near_currency(text: str, m: re.Match[str]) -> bool:
    before, after = text[max(0, m.start() - 12):m.start()], text[m.end():m.end() + 12]
    return bool(_CURRENCY.search(before) or _CURRENCY.search(after))


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
