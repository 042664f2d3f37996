"""Long numbers said aloud (card and account numbers): gathered across pauses, corrected, read back.

People read a card number in groups, pause between them, correct themselves ("six two two two,
no, six two two zero") and sometimes finish on the keypad. So at a long-number prompt each
spoken group is added to what was said before; a correction replaces the digits just said;
the entry ends when the caller has said the longest such number, or stops (the channel's
short entry pause, or the step's no-input), or presses '#'. Only then is the length judged,
and a number that was spoken at all is read back in groups: "yes" or 1 takes it, "no" or 2
asks again. A number entered on the keypad alone needs no read-back (the engine's own path).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from voicebot.dialog import prompts, reading
from voicebot.dialog.ask import Ask
from voicebot.dialog.inputs import BAD_ENTRY, DIGIT_LENGTHS
from voicebot.nlu.numbers import parse_digits

if TYPE_CHECKING:
    from voicebot.dialog.engine import DialogEngine

LONG_NUMBER_STEPS = ("card_number", "account_number")
_CORRECTION = re.compile(r"\b(?:no|sorry|i mean|i said|wait|correction|scratch that)\b|不对|不是|错了|我是说|说错了",
                         re.IGNORECASE)


def is_number_turn(text: str) -> bool:
    """Whether a turn at a long-number prompt is (part of) the number: digits, or a correction."""
    return bool(parse_digits(text) or _CORRECTION.search(text))


@dataclass
class SpokenNumber:
    """What the caller has given so far at one long-number prompt."""

    low: int  # the shortest valid length
    high: int  # the longest
    digits: str = ""
    spoken: bool = False  # any of it came by voice: it will be read back
    said: list[int] = field(default_factory=list)  # lengths of the groups as they came, to undo the last

    @property
    def started(self) -> bool:
        return bool(self.digits)

    def hear(self, text: str) -> bool:
        """Add a turn's speech; False when it holds no digits and corrects nothing (not for us)."""
        pieces = _CORRECTION.split(text)
        if not parse_digits(text) and (len(pieces) == 1 or not self.started):
            return False  # no digits, and nothing said yet to correct: not part of a number
        for i, piece in enumerate(pieces):
            new = parse_digits(piece)
            if i:  # after a correction word: the new digits replace as many just said, or the last group
                self._undo(len(new) if new else None)
            if new:
                self.digits += new
                self.said.append(len(new))
        self.spoken = True
        return True

    def press(self, keys: str) -> None:
        """Keys after spoken digits finish the same number."""
        new = re.sub(r"\D", "", keys)
        if new:
            self.digits += new
            self.said.append(len(new))

    @property
    def full(self) -> bool:
        """Nothing longer is a valid number: no need to wait for the caller to stop."""
        return len(self.digits) >= self.high

    @property
    def valid(self) -> bool:
        return self.low <= len(self.digits) <= self.high

    def _undo(self, count: int | None) -> None:
        if count is None:
            count = self.said[-1] if self.said else 0
        count = min(count, len(self.digits))
        self.digits = self.digits[:len(self.digits) - count]
        while self.said and count > 0:
            last = self.said.pop()
            if last > count:
                self.said.append(last - count)
            count -= last


def in_groups(digits: str, size: int = 4) -> list[str]:
    """'6222020000000001' -> ['6222', '0200', '0000', '0001'] (the way it is read back)."""
    return [digits[i:i + size] for i in range(0, len(digits), size)]


def read_back_ask(digits: str, step: str, lang: str) -> Ask:
    """'I heard six two two two, zero two zero zero, ... Is that right?' as a yes/no step."""
    groups = ("，" if lang == "zh-CN" else ", ").join(reading.digits(g, lang) for g in in_groups(digits))
    return Ask("confirm", prompts.text("read_back_number", lang, digits=groups), options={"1": True, "2": False},
               step=f"{step}:read_back")


class NumberEntry:
    """The engine's policy at long-number prompts: gather, judge when the caller stops, read back."""

    def __init__(self, engine: DialogEngine) -> None:
        self.engine = engine
        self.number: SpokenNumber | None = None  # digits said so far
        self._read_back: tuple[Ask, str] | None = None  # the number's step and digits, while read back

    @property
    def gathering(self) -> bool:
        return self.number is not None and self.number.started

    @property
    def reading_back(self) -> bool:
        return self._read_back is not None

    def drop(self) -> None:
        self.number = None

    def hear(self, text: str) -> bool:
        """Digits (or a correction) at a long-number prompt are gathered; True if the turn was that."""
        ask = self.engine.ask
        if ask.expect not in LONG_NUMBER_STEPS:
            return False
        number = self.number or SpokenNumber(*DIGIT_LENGTHS[ask.expect])
        if not number.hear(text):
            return False
        self.number = number
        if number.full or (number.said and number.said[-1] >= number.low):  # no more to come
            self.done()
        return True

    def press(self, keys: str) -> None:
        self.number.press(keys)
        self.done()

    def done(self) -> None:
        """The caller stopped: judge the length, then read the number back before it counts."""
        engine, number, self.number = self.engine, self.number, None
        if not number.valid:
            heard = engine.ctx.t("heard_digits", count=reading.number(len(number.digits), engine.ctx.lang))
            engine._fail("no_match", f"{heard} {engine.ctx.t(BAD_ENTRY[engine.ask.expect])}")
            return
        self._read_back = (engine.ask, number.digits)
        engine.ask = read_back_ask(number.digits, engine.ask.step, engine.ctx.lang)
        engine._present(engine.ask)

    def answered(self, right: bool) -> None:
        """Yes: the number goes to its step's check; no: the caller gives it again."""
        engine = self.engine
        (engine.ask, digits), self._read_back = self._read_back, None
        if right:
            engine._validated(digits)
        else:
            engine.ctx.say("number_again")
            engine._present(engine.ask)
