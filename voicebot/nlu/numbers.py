"""Deterministic normalisation of spoken numbers, amounts and digit strings (en-US, zh-CN).

ASR output spells numbers out ("two thousand five hundred", "两千五百块", "1.5万"); these
functions turn them into Decimals or digit strings and return None when there is none.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_EN_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
_EN_UNITS.update({"oh": 0, "a": 1, "an": 1})
_EN_TENS = {w: 10 * (i + 2) for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split())}
_EN_SCALES = {"thousand": 1000, "million": 10**6, "billion": 10**9, "k": 1000}
_EN_DIGIT_WORDS = {**{w: str(i) for w, i in _EN_UNITS.items() if i < 10 and w not in ("a", "an")}}

_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
_ZH_BIG = {"万": 10**4, "亿": 10**8}
_NUM_RE = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")


# a digit's character or word that is no figure there: "等一下", "一会儿", "再说一遍", "one moment"
_NOT_FIGURES = re.compile(r"[一两](?=[下会些起样直定般遍次旦切])|\bone (?=(?:moment|sec|second|minute)s?\b)")


def parse_digits(text: str) -> str:
    """Digits spoken or typed one by one: "six two two two" / "六二二二" / "6222 0200" -> "62220200"."""
    out = []
    for tok in re.findall(r"\d+|[a-z]+|[零〇一幺二两三四五六七八九]", _NOT_FIGURES.sub(" ", text.lower())):
        if tok.isdigit():
            out.append(tok)
        elif tok in _EN_DIGIT_WORDS:
            out.append(_EN_DIGIT_WORDS[tok])
        elif tok in ("double", "triple"):
            out.append(tok)
        elif tok in _ZH_DIGITS:
            out.append(str(_ZH_DIGITS[tok]))
    # "double five" -> "55", "triple zero" -> "000"
    digits: list[str] = []
    repeat = 1
    for tok in out:
        if tok == "double":
            repeat = 2
        elif tok == "triple":
            repeat = 3
        else:
            digits.append(tok * repeat if len(tok) == 1 else tok)
            repeat = 1
    return "".join(digits)


def parse_amount(text: str) -> Decimal | None:
    """The first amount in an utterance, in either language, or None."""
    text = text.lower().replace("，", ",").replace("。", " ")
    zh = _parse_zh_amount(text)
    if zh is not None:
        return zh
    return _parse_en_amount(text)


def _parse_en_amount(text: str) -> Decimal | None:
    tokens = re.findall(r"\d+(?:,\d{3})*(?:\.\d+)?|[a-z]+", text.replace("-", " "))
    total = Decimal(0)
    current = Decimal(0)
    seen = False
    decimals: list[str] | None = None
    cents: Decimal | None = None
    whole: Decimal | None = None  # the value spoken before a currency word
    for i, tok in enumerate(tokens):
        if decimals is not None:
            if tok in _EN_DIGIT_WORDS:
                decimals.append(_EN_DIGIT_WORDS[tok])
                continue
            if tok.isdigit():
                decimals.append(tok)
                continue
            break
        if _NUM_RE.fullmatch(tok):
            current += Decimal(tok.replace(",", ""))
            seen = True
        elif tok in _EN_UNITS and not (tok in ("a", "an") and not _next_is_scale(tokens, i)):
            current += _EN_UNITS[tok]
            seen = True
        elif tok in _EN_TENS:
            current += _EN_TENS[tok]
            seen = True
        elif tok == "hundred" and seen:
            current = (current or Decimal(1)) * 100
        elif tok in _EN_SCALES and seen:
            total += (current or Decimal(1)) * _EN_SCALES[tok]
            current = Decimal(0)
        elif tok == "point" and seen:
            decimals = []
        elif tok in ("cents", "cent") and seen:
            cents = total + current  # "... dollars and fifty cents"
            total = current = Decimal(0)
        elif tok in _CURRENCY_WORDS and seen and whole is None:
            whole = total + current
            total = current = Decimal(0)
        elif tok in ("and", *_CURRENCY_WORDS) or not seen:
            continue
        else:
            break
    if not seen:
        return None
    value = total + current
    if decimals:
        value += Decimal("0." + "".join(decimals))
    if whole is not None:  # "fifty dollars [and twenty five cents]"
        value = whole + (cents / 100 if cents is not None and cents < 100 else 0)
    elif cents is not None:  # "seventy five cents"
        value = cents / 100
    return value


def _next_is_scale(tokens: list[str], i: int) -> bool:
    return i + 1 < len(tokens) and tokens[i + 1] in ("hundred", *_EN_SCALES)


_CURRENCY_WORDS = ("yuan", "dollars", "dollar", "rmb", "euros", "euro", "kuai", "bucks", "renminbi")
_ZH_CHARS = "零〇一幺二两三四五六七八九十百千万亿点"


def _parse_zh_amount(text: str) -> Decimal | None:
    m = re.search(rf"(?:\d+(?:\.\d+)?|[{_ZH_CHARS}])(?:\d+(?:\.\d+)?|[{_ZH_CHARS}元块角毛分])*", text)
    if m is None or not re.search(r"[\u4e00-\u9fff]", m.group(0)) and not re.search(r"[\u4e00-\u9fff]", text):
        return None
    span = m.group(0)
    yuan_part, rest = re.split(r"[元块]", span, maxsplit=1) if re.search(r"[元块]", span) else (span, "")
    value = _zh_number(yuan_part)
    if value is None:
        return None
    if rest:
        jiao = re.match(rf"([{_ZH_CHARS}\d])[角毛]?", rest)
        fen = re.search(rf"([{_ZH_CHARS}\d])分", rest)
        if jiao and not rest.startswith(jiao.group(1) + "分"):
            value += Decimal(_zh_number(jiao.group(1)) or 0) / 10
        if fen:
            value += Decimal(_zh_number(fen.group(1)) or 0) / 100
    return value


def _zh_number(s: str) -> Decimal | None:
    """Chinese (or mixed Arabic) numeral to Decimal: 一万二千三百四十五, 1.5万, 两千五, 三点五."""
    if not s:
        return None
    if "点" in s:
        whole, frac = s.split("点", 1)
        base = _zh_number(whole) if whole else Decimal(0)
        digits = "".join(str(_ZH_DIGITS[c]) if c in _ZH_DIGITS else c for c in frac if c.isdigit() or c in _ZH_DIGITS)
        if base is None:
            return None
        return base + (Decimal("0." + digits) if digits else 0)
    if all(c in _ZH_DIGITS for c in s) and len(s) > 1:  # digit string: 五零零 -> 500
        return Decimal("".join(str(_ZH_DIGITS[c]) for c in s))
    total = Decimal(0)
    section = Decimal(0)
    number: Decimal | None = None
    last_unit = 1
    for tok in re.findall(r"\d+(?:\.\d+)?|.", s):
        if tok[0].isdigit():
            try:
                number = Decimal(tok)
            except InvalidOperation:
                return None
        elif tok in _ZH_DIGITS:
            number = Decimal(_ZH_DIGITS[tok])
        elif tok in _ZH_UNITS:
            section += (number if number is not None else 1) * _ZH_UNITS[tok]
            number = None
            last_unit = _ZH_UNITS[tok]
        elif tok in _ZH_BIG:
            big = _ZH_BIG[tok]
            if big == 10**8:
                total = (total + section + (number or 0)) * big
            else:
                total += (section + (number or 0)) * big
            section = Decimal(0)
            number = None
            last_unit = big
        else:
            return None
    if number is not None:
        # "两千五" means 2,500: a bare trailing digit is one unit below the last unit.
        trailing = number * (last_unit // 10) if last_unit >= 100 and number < 10 else number
        section += trailing
    return total + section
