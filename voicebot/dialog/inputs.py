"""Turning one caller answer (keys or speech) into the value a step expects, or None."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from voicebot.dialog.ask import Ask
from voicebot.dialog.periods import spoken_period
from voicebot.nlu.numbers import parse_amount, parse_digits
from voicebot.nlu.parser import NluResult

DIGIT_LENGTHS = {"card_number": (16, 19), "account_number": (16, 19), "mobile_number": (11, 11), "pin": (6, 6),
                 "area_code": (3, 4)}
# the prompt that says what a well-formed entry looks like, after a malformed one
BAD_ENTRY = {"card_number": "bad_card", "account_number": "bad_card", "mobile_number": "bad_mobile", "pin": "bad_pin",
             "amount": "bad_amount", "date": "bad_date", "area_code": "bad_area_code"}


@dataclass(frozen=True)
class Correction:
    """A change to the request being confirmed ("no, two hundred", "I said electricity").

    Falsy, so a confirmation that does not expect one reads it as a "no": nothing moves.
    """

    amount: Decimal | None = None
    service: Any = None  # a catalogue Service of the same family ...
    request: tuple[Any, str] | None = None  # ... and the (NluResult, words) that named it

    def __bool__(self) -> bool:
        return False


def from_keys(ask: Ask, digits: str, today: date) -> Any:
    """Value for a keypad entry (menu keys are handled by the engine)."""
    if ask.expect in DIGIT_LENGTHS:
        low, high = DIGIT_LENGTHS[ask.expect]
        return digits if digits.isdigit() and low <= len(digits) <= high else None
    if ask.expect == "amount":
        return _key_amount(digits)
    if ask.expect == "date":
        if digits == "0":
            return today
        return _date(digits)
    return None


def from_speech(ask: Ask, text: str, nlu: NluResult | None, today: date, sure: float = 0.7) -> Any:
    """Value for spoken input at this step; never called for PIN steps. At a confirmation a yes or
    no is taken only when the classifier is at least ``sure`` of it: a guess neither moves money
    nor throws the request away (the caller is asked again)."""
    lowered = text.lower()
    if ask.expect == "confirm":
        if nlu is not None and nlu.intent in ("affirm", "deny") and nlu.confidence >= sure:
            return ask.options["1" if nlu.intent == "affirm" else "2"]
        return _match_words(ask, lowered)
    if ask.expect == "menu":
        return _match_words(ask, lowered) or _ordinal_choice(ask, lowered)
    if ask.expect in ("card_number", "account_number", "mobile_number", "area_code"):
        return from_keys(ask, parse_digits(lowered), today)
    if ask.expect == "amount":
        return parse_amount(text)
    if ask.expect == "date":
        return spoken_period(lowered, today) or _date(parse_digits(lowered))
    if ask.expect == "free":
        return text
    return None


def _match_words(ask: Ask, lowered: str) -> Any:
    """The option whose words the caller said; the longest match wins ("电话费" is the landline
    bill even though it contains "话费", a word of the mobile bill)."""
    compact = lowered.replace(" ", "")
    best: tuple[int, str] | None = None
    for key, words in ask.words.items():
        for word in words:
            if re.search(r"[\u4e00-\u9fff]", word):
                found = word in compact
            else:
                found = re.search(rf"(?<![\w']){re.escape(word.lower())}(?![\w'])", lowered) is not None
            if found and (best is None or len(word) > best[0]):
                best = (len(word), key)
    return ask.options[best[1]] if best else None


_NTH_WORDS = ("first", "second", "third", "fourth", "fifth")  # and "last"
_ZH_NTH = "一二三四五"
# a position named in words, Chinese numerals or digits -> its index among the options (-1: the last)
_ORDINALS = {**{w: i for i, w in enumerate(_NTH_WORDS)}, **{n: i for i, n in enumerate(_ZH_NTH)},
             **{str(i + 1): i for i in range(len(_NTH_WORDS))}, "last": -1, "最后": -1}
_NTH = f"({'|'.join((*_NTH_WORDS, 'last'))})"
#: How callers answer by position (a recogniser at a menu is biased towards these, see speech/grammars.py).
ORDINAL_PHRASES = {
    "en-US": tuple(p for n in (*_NTH_WORDS, "last") for p in (f"the {n} one", f"the {n} option", n)),
    "zh-CN": (*(f"第{n}个" for n in _ZH_NTH), "最后一个"),
}
_ORDINAL = re.compile(rf"\bthe {_NTH}\b|\b{_NTH} (?:one|option|choice)\b|^{_NTH}(?: please)?$"
                      rf"|第([{_ZH_NTH}1-5])|(最后)(?:一个|一项|那个|一种)")


def _ordinal_choice(ask: Ask, lowered: str) -> Any:
    """'the second one', 'the last option', '第二个', '最后一个' where the caller just heard the options
    listed in order (two close guesses, a family's members); not at the main menu."""
    if ask.step != "which_service" and (not ask.step.startswith("menu:") or ask.step == "menu:main"):
        return None
    m = _ORDINAL.search(lowered.replace(" ", "") if re.search(r"[\u4e00-\u9fff]", lowered) else lowered)
    listed = [key for key in ask.options if key.isdigit() and key != "0"]
    if m is None or not listed:
        return None
    position = _ORDINALS[next(g for g in m.groups() if g)]
    return ask.options[listed[position]] if -len(listed) <= position < len(listed) else None


def _key_amount(digits: str) -> Decimal | None:
    """'500' -> 500, '500*5' -> 500.5 (star is the decimal point on a phone keypad)."""
    if not re.fullmatch(r"\d{1,13}(\*\d{1,2})?", digits):
        return None
    try:
        return Decimal(digits.replace("*", "."))
    except InvalidOperation:
        return None


def _date(digits: str) -> date | None:
    if not re.fullmatch(r"\d{8}", digits):
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None
