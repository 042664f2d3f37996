"""Long numbers said aloud (card and account numbers): gathered across pauses, corrected, read back.

People read a card number in groups, pause between them, correct themselves ("six two two two,
no, six two two zero") and sometimes finish on the keypad. So at a long-number prompt each
spoken group is added to what was said before; a correction replaces the digits just said;
the entry ends when the caller has said the longest such number, or stops (the channel's
short entry pause, or the step's no-input), or presses '#'. Only then is the length judged,
and a number that was spoken at all is read back in groups: "yes" or 1 takes it, "no" or 2
asks again. A number entered on the keypad alone needs no read-back (the engine's own path).

Every digit keeps the recogniser's confidence in the word it came from. A wrong digit is
nearly always an unsure one (on human voices at the card prompt every misheard digit was
below 0.8, and 95% of right ones at 1.0), so when a caller rejects the read-back and says the
number again, the two readings are merged digit by digit, the surer one winning where they
differ: the second reading need not be perfect either. A card number whose first word was
lost or misheard is put right by the bank's card ranges (``in_card_range``) before its read-back.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from voicebot.dialog import prompts, reading
from voicebot.dialog.ask import Ask
from voicebot.dialog.events import Speech
from voicebot.dialog.inputs import BAD_ENTRY, DIGIT_LENGTHS
from voicebot.nlu.numbers import parse_digits

if TYPE_CHECKING:
    from voicebot.dialog.steering import Steering

log = logging.getLogger("voicebot.dialog")

LONG_NUMBER_STEPS = ("card_number", "account_number", "mobile_number")
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
    sure: list[float] = field(default_factory=list)  # per digit: the confidence of what it was heard as

    @property
    def started(self) -> bool:
        return bool(self.digits)

    def hear(self, text: str, words: tuple[tuple[str, float], ...] = ()) -> bool:
        """Add a turn's speech (``words``: each with its confidence); False when it holds no
        digits and corrects nothing (not for us)."""
        pieces = _CORRECTION.split(text)
        if not parse_digits(text) and (len(pieces) == 1 or not self.started):
            return False  # no digits, and nothing said yet to correct: not part of a number
        sure = digit_confidences(words or ((text, 1.0),))
        if len(sure) != sum(len(parse_digits(p)) for p in pieces):  # words and text disagree: one figure for all
            mean = sum(c for _, c in words) / len(words) if words else 1.0
            sure = [mean] * sum(len(parse_digits(p)) for p in pieces)
        for i, piece in enumerate(pieces):
            new = parse_digits(piece)
            if i:  # after a correction word: the new digits replace as many just said, or the last group
                self._undo(len(new) if new else None)
            if new:
                self._add(new, sure[:len(new)])
                sure = sure[len(new):]
        self.spoken = True
        return True

    def press(self, keys: str) -> None:
        """Keys after spoken digits finish the same number."""
        new = re.sub(r"\D", "", keys)
        if new:
            self._add(new, [1.0] * len(new))

    def _add(self, digits: str, sure: list[float]) -> None:
        self.digits += digits
        self.sure += sure
        self.said.append(len(digits))

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
        self.sure = self.sure[:len(self.digits)]
        while self.said and count > 0:
            last = self.said.pop()
            if last > count:
                self.said.append(last - count)
            count -= last


def digit_confidences(words: tuple[tuple[str, float], ...]) -> list[float]:
    """One confidence per digit of these words: that of the word which gave the digit ("double"
    or "triple" count with the digit word after them)."""
    text, sure = "", list[float]()
    for word, confidence in words:
        text = f"{text} {word}"
        count = len(parse_digits(text))
        sure = sure[:count] + [confidence] * (count - len(sure))
    return sure


Reading = tuple[str, list[float]]  # digits, and the confidence of each


def merged(earlier: Reading, again: Reading, refused: bool = False, shortest: int = 0) -> Reading:
    """A number said again, merged with the caller's earlier reading of it at the same prompt.

    The two are aligned digit by digit (fewest edits). Where they agree the digit stands;
    where they differ the surer one wins (the new one on a tie); a digit only one reading has
    is kept, since a recogniser mostly drops digits rather than invents them, as long as the
    number grows no longer than the longer reading (or ``shortest``, the shortest valid length): the least
    sure of such digits go first. A ``refused`` earlier reading (the caller said its read-back
    was wrong) is never given back unchanged: the second reading's digit is taken where that
    one was closest to winning. Readings too far apart (more than a quarter of the digits
    differ) are not of the same number: the new one stands."""
    (old, old_sure), (new, new_sure) = earlier, again
    if len(old_sure) != len(old) or len(new_sure) != len(new) or not old:
        return again
    columns = _aligned(old, new)
    if sum(o is None or n is None or old[o] != new[n] for o, n in columns) > max(len(old), len(new)) // 4:
        return again
    digits: list[str] = []
    sure: list[float] = []
    lone: list[int] = []  # positions of digits only one reading has
    closest: tuple[float, int, str, float] | None = None  # the nearest win of the new reading
    for o, n in columns:
        if o is not None and n is not None:
            (od, oc), (nd, nc) = (old[o], old_sure[o]), (new[n], new_sure[n])
            if od == nd:
                digits.append(od)
                sure.append(max(oc, nc))
                continue
            if oc > nc and (closest is None or oc - nc < closest[0]):
                closest = (oc - nc, len(digits), nd, nc)
            digits.append(od if oc > nc else nd)
            sure.append(oc if oc > nc else nc)
        elif o is not None:
            lone.append(len(digits))
            digits.append(old[o])
            sure.append(old_sure[o])
        elif n is not None:
            lone.append(len(digits))
            digits.append(new[n])
            sure.append(new_sure[n])
    longest = max(len(old), len(new), shortest)
    for i in sorted(lone, key=lambda j: sure[j])[:max(0, len(digits) - longest)]:
        digits[i] = ""
    keep = [i for i, d in enumerate(digits) if d]
    result = ("".join(digits[i] for i in keep), [sure[i] for i in keep])
    if refused and result[0] == old and closest is not None:
        digits[closest[1]], sure[closest[1]] = closest[2], closest[3]
        result = ("".join(digits[i] for i in keep), [sure[i] for i in keep])
    return result


PRIOR_CONFIDENCE = 0.5  # a digit the card ranges put in, not the recogniser: unsure in any merge


def in_card_range(heard: Reading, ranges: frozenset[tuple[str, int]]) -> Reading:
    """A spoken card number whose start was misheard, put right by the bank's card ranges.

    A card of this bank starts with one of its issuer prefixes and has that range's length. A
    spoken number that starts otherwise, but would be such a card with one digit of its start
    changed, put in or taken out, is taken as that card if exactly one range fits, and read back
    like any other. The first word of a reading is the one most often misheard or lost ('eight
    two two two' for 'six two two two', 'two two two' from a quiet caller). Anything else stays
    as heard."""
    digits, sure = heard
    if not ranges or any(digits.startswith(p) for p, _ in ranges):
        return heard  # its start was heard right (a wrong length is judged as ever)
    fits: dict[str, Reading] = {}
    for prefix, length in ranges:
        k = len(prefix) + len(digits) - length  # how much of the heard start stands for the prefix
        if abs(k - len(prefix)) <= 1 and edit_distance(digits[:k], prefix) == 1:
            fits[prefix + digits[k:]] = (prefix + digits[k:], _prefix_sure(digits[:k], sure[:k], prefix) + sure[k:])
    return next(iter(fits.values())) if len(fits) == 1 else heard


def _prefix_sure(heard: str, sure: list[float], prefix: str) -> list[float]:
    """Confidences for a prefix put in place of what was heard: a heard digit that stands keeps its own."""
    out = [PRIOR_CONFIDENCE] * len(prefix)
    for o, n in _aligned(heard, prefix):
        if o is not None and n is not None and heard[o] == prefix[n]:
            out[n] = sure[o]
    return out


def edit_distance(a: str, b: str) -> int:
    """Substitutions, insertions and deletions that turn ``a`` into ``b``."""
    return sum(o is None or n is None or a[o] != b[n] for o, n in _aligned(a, b))


def _aligned(a: str, b: str) -> list[tuple[int | None, int | None]]:
    """Columns of an alignment of ``a`` and ``b`` with the fewest substitutions, insertions and
    deletions: (index in a or None, index in b or None)."""
    cost = [[i + j if not i or not j else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost[i][j] = min(cost[i - 1][j - 1] + (a[i - 1] != b[j - 1]), cost[i - 1][j] + 1, cost[i][j - 1] + 1)
    columns: list[tuple[int | None, int | None]] = []
    i, j = len(a), len(b)
    while i or j:
        if i and j and cost[i][j] == cost[i - 1][j - 1] + (a[i - 1] != b[j - 1]):
            i, j = i - 1, j - 1
            columns.append((i, j))
        elif i and cost[i][j] == cost[i - 1][j] + 1:
            i -= 1
            columns.append((i, None))
        else:
            j -= 1
            columns.append((None, j))
    return columns[::-1]


def in_groups(digits: str, size: int = 4) -> list[str]:
    """'6222020000000001' -> ['6222', '0200', '0000', '0001'] (the way it is read back)."""
    return [digits[i:i + size] for i in range(0, len(digits), size)]


def read_back_ask(digits: str, step: str, lang: str, expect: str = "card_number") -> Ask:
    """'I heard six two two two, zero two zero zero, ... Is that right?' as a yes/no step (a mobile
    number in its own groups, 3-4-4)."""
    if expect == "mobile_number":
        groups = reading.phone_number(digits, lang)
    else:
        groups = ("，" if lang == "zh-CN" else ", ").join(reading.digits(g, lang) for g in in_groups(digits))
    return Ask("confirm", prompts.text("read_back_number", lang, digits=groups), options={"1": True, "2": False},
               step=f"{step}:read_back")


class NumberEntry:
    """The engine's policy at long-number prompts: gather, judge when the caller stops, read back."""

    def __init__(self, engine: Steering) -> None:
        self.engine = engine
        self.number: SpokenNumber | None = None  # digits said so far
        self._read_back: tuple[Ask, str, list[float]] | None = None  # the step, digits and their confidences
        # the caller's last reading at a step that did not count (its read-back refused, or its
        # length wrong): merged with the number said again. (step, reading, read back and refused)
        self._earlier: tuple[str, Reading, bool] | None = None

    @property
    def gathering(self) -> bool:
        return self.number is not None and self.number.started

    @property
    def reading_back(self) -> bool:
        return self._read_back is not None

    @property
    def read_back_of(self) -> str | None:
        """What the number being read back was asked as (``card_number``...), or None."""
        return self._read_back[0].expect if self._read_back is not None else None

    def drop(self) -> None:
        self.number = None

    def hear(self, text: str, words: tuple[tuple[str, float], ...] = ()) -> bool:
        """Digits (or a correction) at a long-number prompt are gathered; True if the turn was that."""
        ask = self.engine.current
        if ask.expect not in LONG_NUMBER_STEPS:
            return False
        number = self.number or SpokenNumber(*DIGIT_LENGTHS[ask.expect])
        if not number.hear(text, words):
            return False
        self.number = number
        if number.full or (number.said and number.said[-1] >= number.low):  # no more to come
            self.done()
        return True

    def hear_grammar(self, speech: Speech) -> bool:
        """A turn at a long-number prompt that is no number and that nothing else understood, in
        which the step's digit grammar heard digits: those are gathered, rather than the turn
        failed and the number said so far with it. Free recognition, which answers when the
        grammar is unsure, makes "the" or "to do so" of a quiet caller's "six" or "two two";
        the read-back still decides."""
        heard = speech.grammar
        if heard is None or self.engine.keypad_only or not parse_digits(heard.text):
            return False
        taken = self.hear(heard.text, heard.words)
        if taken:
            log.info("call=%s number turn taken as the digit grammar heard it (free recognition: %d words)",
                     self.engine.ctx.call_id, len(speech.text.split()))
        return taken

    def press(self, keys: str) -> None:
        if self.number is not None:
            self.number.press(keys)
        self.done()

    def done(self) -> None:
        """The caller stopped: judge the length, then read the number back before it counts."""
        engine, number, self.number = self.engine, self.number, None
        if number is None:  # nothing gathered: nothing to judge
            return
        ask = engine.current
        digits, sure = number.digits, number.sure
        earlier, self._earlier = self._earlier, None
        if earlier is not None and earlier[0] == ask.step:
            digits, sure = merged(earlier[1], (digits, sure), refused=earlier[2], shortest=number.low)
        if number.spoken and ask.expect == "card_number":
            digits, sure = in_card_range((digits, sure), engine.ctx.bank.card_ranges())
        if not number.low <= len(digits) <= number.high:
            self._earlier = (ask.step, (digits, sure), False)
            heard = engine.ctx.t("heard_digits", count=reading.number(len(number.digits), engine.ctx.lang))
            engine.fail("no_match", f"{heard} {engine.ctx.t(BAD_ENTRY[ask.expect])}")
            return
        self._read_back = (ask, digits, sure)
        engine.ask = read_back_ask(digits, ask.step, engine.ctx.lang, ask.expect)
        engine.present(engine.ask)

    def answered(self, right: bool) -> None:
        """Yes: the number goes to its step's check; no: the caller gives it again."""
        engine = self.engine
        if self._read_back is None:
            return
        (asked, digits, sure), self._read_back = self._read_back, None
        engine.ask = asked
        if right:
            engine.validated(digits)
        else:  # a failed turn as any other: asked again once, then on the keypad, then an agent
            self._earlier = (asked.step, (digits, sure), True)
            engine.fail("no_match", engine.ctx.t("number_still_wrong"), brief=engine.ctx.t("number_again"))
