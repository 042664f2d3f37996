"""How close recognised text is to what was said: character error rate for Mandarin, word error
rate for English, after the normalisation speech benchmarks use (case, punctuation, numbers).

Numbers are compared as values, however written: "两千五百" and "2500" are one number, and a
digit string read digit by digit ("一三八", "幺三八") is those digits.
"""

from __future__ import annotations

import re

from voicebot.nlu.numbers import parse_amount

_ZH_DIGITS = {c: str(i) for i, c in enumerate("零一二三四五六七八九")} | {"〇": "0", "幺": "1", "两": "2"}
_ZH_NUMBER = re.compile(r"[零〇一二两三四五六七八九幺十百千万亿]+")
_EN_WORDS = re.compile(r"[a-z0-9']+")


def _zh_value(run: str) -> str:
    """A run of Chinese numerals as Arabic digits: a number with its scale words, else digit by digit."""
    if any(c in run for c in "十百千万亿"):
        value = parse_amount(run)
        if value is not None:
            return format(value.normalize(), "f")
    if all(c in _ZH_DIGITS for c in run):
        return "".join(_ZH_DIGITS[c] for c in run)
    return run


def normalise(text: str, lang: str) -> list[str]:
    """The units compared: characters (Mandarin, numbers as their digits) or words (English)."""
    if lang == "zh-CN":
        text = _ZH_NUMBER.sub(lambda m: _zh_value(m.group(0)), text)
        text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
        return [c for c in text.lower() if c.isalnum()]
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text.lower())
    return _EN_WORDS.findall(text.replace("-", " "))


def distance(ref: list[str], hyp: list[str]) -> int:
    """Levenshtein distance between two unit lists."""
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[len(hyp)]


def error_rate(reference: str, heard: str, lang: str) -> float:
    """Edits per reference unit (CER for zh-CN, WER for en-US); 1.0 for nothing heard."""
    ref, hyp = normalise(reference, lang), normalise(heard, lang)
    return distance(ref, hyp) / max(1, len(ref))
