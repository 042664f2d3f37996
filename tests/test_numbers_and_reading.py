"""The number normaliser (speech -> values) and the natural reading (values -> speech)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from voicebot.dialog import reading
from voicebot.dialog.periods import earlier, spoken_period
from voicebot.money import AmountError, fmt, to_minor
from voicebot.nlu.numbers import parse_amount, parse_digits


@pytest.mark.parametrize(("text", "value"), [
    ("five hundred", "500"), ("two thousand five hundred", "2500"), ("a hundred dollars", "100"),
    ("send five hundred yuan to my mother", "500"), ("1,234.50", "1234.50"),
    ("twelve thousand three hundred forty five point six seven", "12345.67"),
    ("fifty dollars and twenty five cents", "50.25"), ("one million", "1000000"), ("um three hundred", "300"),
    ("两千五百块", "2500"), ("1.5万", "15000"), ("一万二千三百四十五元六角七分", "12345.67"), ("三百五十块五", "350.5"),
    ("两千五", "2500"), ("一亿二千万", "120000000"), ("十五", "15"), ("一百一十", "110"), ("给妈妈转五百块", "500"),
    ("三点五", "3.5"), ("嗯 三百", "300"), ("2千", "2000"),
])
def test_parse_amount(text: str, value: str) -> None:
    assert parse_amount(text) == Decimal(value)


@pytest.mark.parametrize("text", ["hello", "what is my balance", "你好", ""])
def test_no_amount(text: str) -> None:
    assert parse_amount(text) is None


@pytest.mark.parametrize(("text", "digits"), [
    ("six two two two oh two double zero", "62220200"), ("六二二二零二", "622202"), ("6222 0200", "62220200"),
    ("幺三五", "135"), ("triple zero one", "0001"), ("六二二二一二三", "6222123"),
    # a digit's word inside an idiom is no figure: a caller asking for a moment at the card prompt
    ("等一下", ""), ("稍等一会儿", ""), ("再说一遍", ""), ("one moment please", ""), ("hang on one sec", ""),
    ("一二一", "121"), ("one one one", "111"),
])
def test_parse_digits(text: str, digits: str) -> None:
    assert parse_digits(text) == digits


@pytest.mark.parametrize(("n", "zh"), [
    (0, "零"), (10, "十"), (15, "十五"), (110, "一百一十"), (1005, "一千零五"), (10010, "一万零一十"),
    (100010, "十万零一十"), (12345, "一万二千三百四十五"), (1000000, "一百万"), (120000000, "一亿二千万"),
    (1001001, "一百万一千零一"),
])
def test_zh_integers(n: int, zh: str) -> None:
    assert reading.zh_int(n) == zh


@pytest.mark.parametrize(("minor", "cur", "lang", "spoken"), [
    (1_234_567, "CNY", "en-US", "12,345.67 yuan"), (1_234_567, "CNY", "zh-CN", "一万二千三百四十五元六角七分"),
    (50_000, "USD", "zh-CN", "五百美元"), (8650, "CNY", "zh-CN", "八十六元五角"), (105, "CNY", "zh-CN", "一元零五分"),
    (50_050, "USD", "en-US", "500.50 US dollars"), (50_050, "USD", "zh-CN", "五百点五美元"),
    (200, "CNY", "zh-CN", "两元"), (250_000, "CNY", "zh-CN", "两千五百元"), (2_000_000, "USD", "zh-CN", "两万美元"),
    (20_000, "CNY", "zh-CN", "二百元"), (1_220_000, "CNY", "zh-CN", "一万二千二百元"),
    (2_200, "CNY", "zh-CN", "二十二元"),
])
def test_money_reading(minor: int, cur: str, lang: str, spoken: str) -> None:
    assert reading.money(minor, cur, lang) == spoken


@pytest.mark.parametrize(("n", "zh"), [(1, "一"), (2, "两"), (12, "十二"), (20, "二十"), (200, "二百"),
                                       (2000, "两千"), (22000, "两万二千"), (102, "一百零二")])
def test_zh_counts_say_liang_where_mandarin_does(n: int, zh: str) -> None:
    """"您共有两笔交易", not "二笔": two before a measure word is 两."""
    assert reading.number(n, "zh-CN") == zh


def test_dates_and_card_endings() -> None:
    assert reading.day(date(2026, 11, 28), "en-US") == "November 28, 2026"
    assert reading.day(date(2026, 11, 28), "zh-CN") == "二〇二六年十一月二十八日"
    assert reading.card_ending("6222020000000001", "en-US") == "ending in 0 0 0 1"
    assert reading.card_ending("6222020000000001", "zh-CN") == "尾号零零零一"


def test_money_is_exact() -> None:
    assert to_minor("12345.67") == 1_234_567 and to_minor(Decimal("0.1")) == 10
    assert fmt(1_234_567) == "12,345.67"
    for bad in ("1.005", "abc", "NaN", "Infinity"):
        with pytest.raises(AmountError):
            to_minor(bad)


NOV_30 = date(2026, 11, 30)


@pytest.mark.parametrize(("text", "first", "last"), [
    ("last month", "2026-10-01", "2026-10-31"),
    ("上 个 月", "2026-10-01", "2026-10-31"),  # the recogniser spaces Mandarin words
    ("what about the month before last", "2026-09-01", "2026-09-30"),
    ("那上上个月呢", "2026-09-01", "2026-09-30"),
    ("two months ago", "2026-09-01", "2026-09-30"),
    ("两个月前", "2026-09-01", "2026-09-30"),
    ("transactions in march", "2026-03-01", "2026-03-31"),
    ("三月份的明细", "2026-03-01", "2026-03-31"),
    ("december", "2025-12-01", "2025-12-31"),  # a month not yet begun this year is last year's
    ("in may", "2026-05-01", "2026-05-31"),
    ("the last three months", "2026-08-30", "2026-11-30"),
    ("最近三个月", "2026-08-30", "2026-11-30"),
    ("past two weeks", "2026-11-16", "2026-11-30"),
    ("last 10 days", "2026-11-20", "2026-11-30"),
    ("the day before yesterday", "2026-11-28", "2026-11-28"),
    ("前天", "2026-11-28", "2026-11-28"),
    ("去年", "2025-01-01", "2025-12-31"),
    ("this year", "2026-01-01", "2026-11-30"),
])
def test_spoken_periods(text: str, first: str, last: str) -> None:
    assert spoken_period(text, NOV_30) == (date.fromisoformat(first), date.fromisoformat(last))


@pytest.mark.parametrize("text", ["may i see my balance", "three months", "三个月", "i may pay later", "每个月还多少"])
def test_no_period_where_none_was_named(text: str) -> None:
    assert spoken_period(text, NOV_30) is None


@pytest.mark.parametrize(("text", "before", "first", "last"), [
    ("the month before that", ("2026-10-01", "2026-10-31"), "2026-09-01", "2026-09-30"),
    ("再往前一个月", ("2026-03-01", "2026-03-31"), "2026-02-01", "2026-02-28"),
    ("and before that", ("2026-11-01", "2026-11-30"), "2026-10-01", "2026-10-31"),  # this month so far
    ("the week before", ("2026-11-23", "2026-11-30"), "2026-11-15", "2026-11-22"),  # a span: as long, just before
    ("前一个星期", ("2026-11-20", "2026-11-30"), "2026-11-09", "2026-11-19"),
])
def test_the_period_before_the_one_read_out(text: str, before: tuple[str, str], first: str, last: str) -> None:
    period = (date.fromisoformat(before[0]), date.fromisoformat(before[1]))
    assert earlier(text, period) == (date.fromisoformat(first), date.fromisoformat(last))


@pytest.mark.parametrize("text", ["last month", "上个月", "euros", "my credit card"])
def test_no_step_back_unless_asked(text: str) -> None:
    assert earlier(text, (date(2026, 10, 1), date(2026, 10, 31))) is None


@pytest.mark.parametrize("lang", ["en-US", "zh-CN"])
def test_every_period_the_date_prompt_listens_for_is_understood(lang: str) -> None:
    from voicebot.dialog.periods import PHRASES

    assert [p for p in PHRASES[lang] if spoken_period(p, NOV_30) is None] == []
