"""Per-step vocabularies that bias recognition (a Vosk runtime grammar), from data we already keep.

Confirmation steps listen for the catalogue's own affirm/deny words, digit entries for digit
words, and menus for the way callers ask for services (the NLU training sentences) and for
answers by position ("the second one"). The biased
result is used only when confident; free recognition stays the fallback (see asr.py).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from voicebot.catalogue import catalogue
from voicebot.config import PROJECT_DIR
from voicebot.dialog.inputs import ORDINAL_PHRASES
from voicebot.dialog.periods import PHRASES as PERIOD_PHRASES

DIGIT_WORDS = {
    "en-US": "zero oh one two three four five six seven eight nine double triple",
    "zh-CN": "零 幺 一 二 两 三 四 五 六 七 八 九",
}
AMOUNT_WORDS = {
    "en-US": "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty "
             "forty fifty sixty seventy eighty ninety hundred thousand million point and yuan dollars cents",
    "zh-CN": "十 百 千 万 亿 点 元 块 角 毛 分",
}
DIGIT_STEPS = ("card_number", "account_number", "mobile_number", "area_code", "date")


@cache
def grammar_for(expect: str, lang: str) -> tuple[str, ...] | None:
    """Phrases to bias towards at a step, or None for free recognition only."""
    if expect == "confirm":
        words = {i.id: i.keywords.get(lang, ()) for i in catalogue().intents}
        return tuple(sorted({*words["affirm"], *words["deny"]}))
    if expect == "date":  # eight digits, or a period ("last month", "in march")
        return (*sequences(DIGIT_WORDS[lang].split()), *PERIOD_PHRASES[lang])
    if expect in DIGIT_STEPS:
        return sequences(DIGIT_WORDS[lang].split())
    if expect == "amount":
        return sequences([*DIGIT_WORDS[lang].split(), *AMOUNT_WORDS[lang].split()])
    if expect == "menu":  # and answers by position to a list just heard ("the second one")
        return (*caller_sentences(lang), *ORDINAL_PHRASES[lang])
    if expect == "free":
        return caller_sentences(lang)
    return None


def settles_at_pause(expect: str) -> bool:
    """Answers at this step are phrases (a service, yes or no), not numbers read in groups with
    pauses between them (card, amount, PIN): a turn's result may be decided at its first pause
    (see asr.py)."""
    return expect in ("menu", "free", "confirm")


def sequences(words: list[str]) -> tuple[str, ...]:
    """Every word followed by every word: how a digit or amount vocabulary is given to Vosk.

    Vosk turns a grammar's phrases into a bigram model; from single words alone a digit string
    is a chain of unseen bigrams ("seven seven six three" came out as "[unk] three")."""
    return tuple(f"{a} {b}" for a in words for b in words)


@cache
def commands_for(expect: str, lang: str) -> tuple[str, ...] | None:
    """Navigation phrases decoded beside a step's own grammar (None where the step has none, or
    where its grammar already holds them: menus listen for every training sentence)."""
    if expect in ("menu", "free") or grammar_for(expect, lang) is None:
        return None
    cat = catalogue()  # the catalogue's navigation intents, and asking for a human agent
    sources: tuple[Any, ...] = (*(i for i in cat.intents if i.navigation), cat.by_id["agent"])  # intents, a service
    keywords = {k for source in sources for k in source.keywords.get(lang, ())}
    return tuple(sorted(keywords | set(caller_sentences(lang, tuple(s.id for s in sources))))) or None


@cache
def caller_sentences(lang: str, intents: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """How callers ask for things: the NLU training sentences (of ``intents``, or all but out-of-scope)."""
    from voicebot.nlu.data import load_examples

    data = PROJECT_DIR / "nlu_data" / lang
    if not data.is_dir():
        return ()
    return tuple(sorted({e.text for e in load_examples(data)
                         if (e.intent in intents if intents else e.intent != "out_of_scope")}))


_known: dict[tuple[int, tuple[str, ...]], tuple[str, ...]] = {}


def in_vocabulary(model: Any, phrases: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Phrases whose every word the model knows (Vosk drops unknown words silently); cached per model."""
    key = (id(model), tuple(phrases))
    if key not in _known:
        _known[key] = tuple(p for p in phrases if all(model.vosk_model_find_word(w) != -1 for w in p.split()))
    return _known[key]
