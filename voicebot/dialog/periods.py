"""Periods as callers say them ("the month before last", "in march", "最近三个月") -> (first day, last day).

Used at the history step's date prompt and as the ``date_range`` entity of a spoken request, in
both languages. A period never reaches past today; a month named without a year is the latest
one that has begun ("march" in November is this year's, "december" is last year's).
"""

from __future__ import annotations

import re
from calendar import monthrange
from datetime import date, timedelta

from voicebot.nlu.numbers import parse_amount

_MONTHS_EN = ("january february march april may june july august september october november "
              "december").split()
_ZH_MONTH = "(十二|十一|十|一|二|三|四|五|六|七|八|九|1[0-2]|[1-9])"
_NUMBER = r"(\d+|[a-z]+|[零一二两三四五六七八九十]+)"
_UNIT_DAYS = {"day": 1, "天": 1, "日": 1, "week": 7, "周": 7, "星期": 7, "礼拜": 7}

#: Phrases a recogniser may be biased towards at a date prompt (see speech/grammars.py).
PHRASES = {
    "en-US": ("today", "yesterday", "the day before yesterday", "this week", "last week", "this month",
              "last month", "the month before last", "this year", "last year", "last three months",
              *(f"in {m}" for m in _MONTHS_EN)),
    "zh-CN": ("今天", "昨天", "前天", "本周", "上周", "这个月", "上个月", "上上个月", "今年", "去年",
              "最近三个月", *(f"{m}月份" for m in "一二三四五六七八九十")),
}


def spoken_period(text: str, today: date) -> tuple[date, date] | None:
    """The period a caller named, or None. ``text`` is lower case (as the recogniser gives it)."""
    compact = re.sub(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff\d])|(?<=\d)\s+(?=[\u4e00-\u9fff])", "", text)
    for reader in (_relative_month, _span, _named_month, _calendar):
        found = reader(compact, today)
        if found:
            return found
    return None


# "the month before that", "the week before", "再往前一个月": the period just before the one last read out
_BEFORE = re.compile(r"\bbefore (?:that|then|it)\b|\bthe (?:one|month|week|period|days?) before\b|\bearlier than that\b"
                     r"|\bthe previous (?:one|period)\b|再往前|再之前|再前|之前那|前一个")


def earlier(text: str, period: tuple[date, date]) -> tuple[date, date] | None:
    """The period just before ``period`` if ``text`` asks for it: the month before a whole month
    (or this month so far), else a span as long ending the day before; None if it does not ask."""
    if not _BEFORE.search(text):
        return None
    start, end = period
    if start.day == 1 and (end.year, end.month) == (start.year, start.month):
        return _month(start, 1)
    return start - timedelta(days=1) - (end - start), start - timedelta(days=1)


def _month(today: date, back: int) -> tuple[date, date]:
    """The whole month ``back`` months before this one (0: this month so far)."""
    year, month = divmod(today.year * 12 + today.month - 1 - back, 12)
    first = date(year, month + 1, 1)
    if back == 0:
        return first, today
    return first, first.replace(day=monthrange(year, month + 1)[1])


def _relative_month(text: str, today: date) -> tuple[date, date] | None:
    if any(w in text for w in ("month before last", "上上个月", "上上月")):
        return _month(today, 2)
    m = re.search(rf"{_NUMBER} months? ago|{_NUMBER}个月(?:以|之)?前", text)
    if m:
        n = parse_amount(m.group(1) or m.group(2))
        if n is not None and 0 < n <= 24:
            return _month(today, int(n))
    if any(w in text for w in ("last month", "previous month", "上个月", "上月")):
        return _month(today, 1)
    if any(w in text for w in ("this month", "本月", "这个月", "这月")):
        return _month(today, 0)
    return None


def _span(text: str, today: date) -> tuple[date, date] | None:
    """'the last three months', 'past two weeks', 'last 10 days', '最近三个月', '近两周', '最近几天'."""
    m = re.search(rf"(?:last|past|previous) {_NUMBER} (day|week|month)s?", text)
    if m is None:
        m = re.search(rf"(?:最近|近|过去)的?{_NUMBER}(?:个)?(天|日|周|星期|礼拜|月)", text)
    if m:
        n = parse_amount(m.group(1))
        if n is None or not 0 < n <= 366:
            return None
        unit = m.group(2)
        if unit in ("month", "月"):
            if n > 24:
                return None
            return _shift_months(today, -int(n)), today
        return today - timedelta(days=int(n) * _UNIT_DAYS[unit]), today
    if any(w in text for w in ("last few days", "past few days", "最近几天", "这几天", "前几天")):
        return today - timedelta(days=3), today
    if any(w in text for w in ("last week", "past week", "上周", "最近一周", "上个星期", "上星期", "上礼拜")):
        return today - timedelta(days=7), today
    if any(w in text for w in ("this week", "本周", "这周", "这个星期", "这星期")):
        return today - timedelta(days=today.weekday()), today
    if any(w in text for w in ("day before yesterday", "前天")):
        day = today - timedelta(days=2)
        return day, day
    if any(w in text for w in ("yesterday", "昨天")):
        day = today - timedelta(days=1)
        return day, day
    if any(w in text for w in ("today", "今天", "今日")):
        return today, today
    return None


def _shift_months(day: date, months: int) -> date:
    """The same day ``months`` later (earlier if negative), kept inside a shorter month."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def _named_month(text: str, today: date) -> tuple[date, date] | None:
    """'in march', 'for september', '三月份', '3月的' -> that whole month, the latest one begun."""
    month = None
    m = re.search(r"(?<![a-z])(" + "|".join(_MONTHS_EN) + r")(?![a-z])", text)
    if m and (m.group(1) != "may" or re.search(r"(?:in|for|of|during|from) may(?![a-z])", text)):
        month = _MONTHS_EN.index(m.group(1)) + 1
    else:
        z = re.search(rf"(?<![\d零一二两三四五六七八九十个]){_ZH_MONTH}月(?!\d)", text)
        if z:
            month = int(parse_amount(z.group(1)) or 0) or None
    if not month:
        return None
    back = (today.month - month) % 12
    return _month(today, back)


def _calendar(text: str, today: date) -> tuple[date, date] | None:
    if any(w in text for w in ("last year", "previous year", "去年")):
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    if any(w in text for w in ("this year", "今年")):
        return date(today.year, 1, 1), today
    return None
