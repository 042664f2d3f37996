"""How amounts, dates, digits and card endings are read to the caller, in both languages.

Shared by the dialog's text and (later) the speech output, so what is shown in a transcript
is what the caller hears.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from voicebot.money import from_minor

CURRENCY_NAMES = {
    "en-US": {"CNY": "yuan", "USD": "US dollars", "EUR": "euros", "HKD": "Hong Kong dollars", "JPY": "yen",
              "GBP": "pounds"},
    "zh-CN": {"CNY": "元", "USD": "美元", "EUR": "欧元", "HKD": "港币", "JPY": "日元", "GBP": "英镑"},
}
_SINGULAR = {"USD": "US dollar", "EUR": "euro", "HKD": "Hong Kong dollar", "GBP": "pound"}  # en-US, one unit
_ACCOUNT_NAMES = {"zh-CN": {"CNY": "人民币"}}  # how an account's currency is named, where it differs
_ZH_DIGIT = "零一二三四五六七八九"
_MONTHS = ("January February March April May June July August September October November "
           "December").split()


def zh_int(n: int) -> str:
    """Chinese reading of a non-negative integer: 12345 -> 一万二千三百四十五, 1005 -> 一千零五."""
    if n == 0:
        return "零"
    if n < 0:
        return "负" + zh_int(-n)
    sections = []
    while n:
        sections.append(n % 10000)
        n //= 10000
    big_units = ["", "万", "亿", "万亿"]
    out = ""
    need_zero = False
    for i in range(len(sections) - 1, -1, -1):
        sec = sections[i]
        if sec == 0:
            need_zero = bool(out)
            continue
        if out and (need_zero or sec < 1000):
            out += "零"
        out += _zh_section(sec) + big_units[i]
        need_zero = False
    if out.startswith("一十"):
        out = out[1:]
    return out


def _zh_section(sec: int) -> str:
    digits = [sec // 1000, sec // 100 % 10, sec // 10 % 10, sec % 10]
    units = ["千", "百", "十", ""]
    out = ""
    zero = False
    for d, u in zip(digits, units, strict=True):
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _ZH_DIGIT[d] + u
    return out


def currency(code: str, lang: str) -> str:
    """The currency as a plural noun: 'how many US dollars' / '美元'."""
    return _ACCOUNT_NAMES.get(lang, {}).get(code) or CURRENCY_NAMES[lang].get(code, code)


def account_currency(code: str, lang: str) -> str:
    """The currency naming an account or balance: 'your US dollar account', 'your yuan balance' / '人民币'."""
    return _ACCOUNT_NAMES.get(lang, {}).get(code) or unit_name(code, lang)


def unit_name(code: str, lang: str) -> str:
    """One unit of a currency: 'US dollar', 'euro', 'yen' / '美元'."""
    return _SINGULAR.get(code, CURRENCY_NAMES[lang].get(code, code)) if lang == "en-US" else CURRENCY_NAMES[lang][code]


def money(minor: int, currency: str, lang: str) -> str:
    """12,345.67 yuan / 一万二千三百四十五元六角七分 / 500.00 US dollars / 1.00 US dollar / 五百美元."""
    value = from_minor(minor)
    name = CURRENCY_NAMES[lang].get(currency, currency)
    if lang == "en-US":
        return f"{value:,} {unit_name(currency, lang) if abs(minor) == 100 else name}"
    whole, frac = divmod(abs(minor), 100)
    sign = "负" if minor < 0 else ""
    if currency == "CNY":
        jiao, fen = divmod(frac, 10)
        text = sign + zh_count(whole) + "元"
        if jiao:
            text += _ZH_DIGIT[jiao] + "角"
        if fen:
            text += ("零" if not jiao else "") + _ZH_DIGIT[fen] + "分"
        return text
    text = sign + zh_count(whole)
    if frac:
        text += "点" + "".join(_ZH_DIGIT[int(c)] for c in f"{frac:02d}".rstrip("0"))
    return text + name


def zh_count(n: int) -> str:
    """A whole number as said before a measure word or as a sum of money: two is 两 alone and
    at the head of 千, 万 and 亿 (两笔, 两元, 两千五百元, 两万); 十二, 二十 and 二百 stay as they are."""
    text = zh_int(n)
    return "两" + text[1:] if text == "二" or text[:2] in ("二千", "二万", "二亿") else text


def number(value: int | Decimal, lang: str) -> str:
    """A count ("You have 2 transactions", "您共有两笔交易")."""
    if lang == "en-US":
        return f"{value:,}"
    value = Decimal(value)
    whole = int(value)
    frac = str(value - whole)[2:] if value != whole else ""
    return zh_count(whole) + ("点" + "".join(_ZH_DIGIT[int(c)] for c in frac) if frac else "")


def rate(value: Decimal, lang: str) -> str:
    """An exchange rate as a bank quotes it: at least two decimals (7.1 -> 7.10, 七点一零)."""
    text = f"{max(value.normalize(), value.quantize(Decimal('0.01')), key=lambda d: -int(d.as_tuple().exponent)):f}"
    if lang == "en-US":
        return text
    whole, _, frac = text.partition(".")
    return zh_int(int(whole)) + ("点" + "".join(_ZH_DIGIT[int(c)] for c in frac) if frac else "")


def digits(s: str, lang: str) -> str:
    """Digits read one by one: '0001' -> '0 0 0 1' / '零零零一'."""
    if lang == "en-US":
        return " ".join(s)
    return "".join(_ZH_DIGIT[int(c)] if c.isdigit() else c for c in s)


def phone_number(number_: str, lang: str) -> str:
    """A mobile number read as its owner says it, in groups of 3, 4 and 4: 'one three nine, one two
    three four, ...' / '幺三九，幺二三四，...' (Mandarin says 幺 for 1 in phone numbers, 一 and 七
    being easy to mix up)."""
    groups = [number_[:3], number_[3:7], number_[7:]] if len(number_) == 11 else [number_]
    if lang == "en-US":
        return ", ".join(digits(g, lang) for g in groups if g)
    return "，".join(digits(g, lang).replace("一", "幺") for g in groups if g)


def card_ending(number_: str, lang: str) -> str:
    """How the bot names a card: by its last four digits (a whole number is read back only to the
    caller who has just said it, see spoken_number)."""
    last4 = number_[-4:]
    return f"ending in {digits(last4, lang)}" if lang == "en-US" else f"尾号{digits(last4, lang)}"


def day(d: date, lang: str) -> str:
    if lang == "en-US":
        return f"{_MONTHS[d.month - 1]} {d.day}, {d.year}"
    year = "".join("〇" if c == "0" else _ZH_DIGIT[int(c)] for c in str(d.year))
    return f"{year}年{zh_int(d.month)}月{zh_int(d.day)}日"
