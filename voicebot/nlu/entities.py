"""Entities the dialog uses, normalised the same way whatever parsed the utterance.

Rasa's lookup extractor and synonym mapper supply ``currency`` and ``payee``; amounts,
area codes, date ranges and card endings come from the deterministic normaliser, which
is exact where a statistical tagger would guess.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from voicebot.nlu.numbers import parse_amount, parse_digits

CURRENCY_WORDS = {
    "HKD": ("hong kong dollar", "hkd", "港币", "港元"), "USD": ("us dollar", "dollar", "usd", "美元", "美金"),
    "EUR": ("euro", "eur", "欧元"), "JPY": ("yen", "jpy", "日元"), "GBP": ("pound", "gbp", "英镑"),
    "CNY": ("yuan", "rmb", "renminbi", "人民币"),
}
#: Which way a trade goes, in a request ("buy some euros", "卖掉港币"; both or neither: no side) and
#: as the FX and investment menus' spoken choices.
SIDE_WORDS = {"buy": ("buy", "purchase", "买", "购汇", "购"), "sell": ("sell", "卖", "结汇")}
_CARD_ENDING = re.compile(r"(?:ending(?: in| with)?|last four(?: digits)?(?: are| is)?|尾号)\s*([\w\s]+)")
_AREA_CODE = re.compile(r"(?:area code|区号)\s*([\w\s]+)")


def extract(text: str, raw: list[dict[str, Any]] | None = None, today: date | None = None) -> list[dict[str, Any]]:
    """[{"entity", "value"}] for amount, currency, payee, side, area_code, card_ending, date_range."""
    from voicebot.dialog.periods import spoken_period  # the dialog's own reading of periods

    lowered = text.lower()
    found: dict[str, Any] = {}
    for e in raw or []:
        if e.get("entity") in ("currency", "payee") and e.get("value"):
            found.setdefault(e["entity"], e["value"])
    if "currency" not in found:
        for code, words in CURRENCY_WORDS.items():
            if any(re.search(rf"(?<![a-z]){re.escape(w)}", lowered) for w in words):
                found["currency"] = code
                break
    sides = [side for side, words in SIDE_WORDS.items()
             if any(re.search(rf"(?<![a-z]){re.escape(w)}", lowered) for w in words)]
    if len(sides) == 1:
        found["side"] = sides[0]
    rest = lowered
    for key, pattern, size in (("card_ending", _CARD_ENDING, (4, 4)), ("area_code", _AREA_CODE, (3, 4))):
        m = pattern.search(rest)
        if m:
            digits = parse_digits(m.group(1))[: size[1]]
            if size[0] <= len(digits):
                found[key] = digits
            rest = rest[: m.start()] + rest[m.end():]  # its digits are no amount
    amount = parse_amount(rest)
    if amount is not None and amount > 0:
        found["amount"] = str(amount)
    period = spoken_period(lowered, today or date.today())
    if period:
        found["date_range"] = f"{period[0].isoformat()}/{period[1].isoformat()}"
    return [{"entity": k, "value": v} for k, v in found.items()]
