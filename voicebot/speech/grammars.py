"""Per-step vocabularies that bias recognition (a Vosk runtime grammar), derived from the catalogue.

Confirmation steps listen for the catalogue's own affirm/deny words; digit entries for digit
words. Menus take free speech (a caller may ask for any service), so they get no grammar.
"""

from __future__ import annotations

from voicebot.catalogue import catalogue

DIGIT_WORDS = {
    "en-US": "zero oh one two three four five six seven eight nine double triple",
    "zh-CN": "零 幺 一 二 两 三 四 五 六 七 八 九",
}
AMOUNT_WORDS = {
    "en-US": "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty "
             "forty fifty sixty seventy eighty ninety hundred thousand million point and yuan dollars cents",
    "zh-CN": "十 百 千 万 亿 点 元 块 角 毛 分",
}
DIGIT_STEPS = ("card_number", "account_number", "area_code", "date")


def grammar_for(expect: str, lang: str) -> list[str] | None:
    """Phrases to bias towards at a step, or None for free recognition."""
    if expect == "confirm":
        words = {i.id: i.keywords.get(lang, ()) for i in catalogue().intents}
        return sorted({*words["affirm"], *words["deny"]})
    if expect in DIGIT_STEPS:
        return DIGIT_WORDS[lang].split()
    if expect == "amount":
        return [*DIGIT_WORDS[lang].split(), *AMOUNT_WORDS[lang].split()]
    return None


def in_vocabulary(model: object, phrases: list[str]) -> list[str]:
    """Phrases whose every word the model knows (Vosk drops unknown words silently)."""
    return [p for p in phrases if all(model.vosk_model_find_word(w) != -1 for w in p.split())]
