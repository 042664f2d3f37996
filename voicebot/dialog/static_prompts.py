"""Every sentence the dialog says that does not depend on the caller's data: pre-rendered at set-up."""

from __future__ import annotations

import string
from functools import cache

from voicebot.catalogue import Catalogue, catalogue
from voicebot.dialog import prompts
from voicebot.dialog.menus import anything_else_ask, menu_ask, presented


def static_sentences(lang: str, cat: Catalogue | None = None) -> list[str]:
    """Fixed prompts plus every catalogue menu, as spoken and in keypad-only form, without repeats."""
    cat = cat or catalogue()
    out: list[str] = []
    for name in prompts.PROMPTS:
        text = prompts.text(name, lang) if not _fields(name, lang) else None
        if text:
            out.append(text)
    asks = [menu_ask(cat, lang, g.path) for g in cat.groups] + [anything_else_ask(lang)]
    for ask in asks:
        out += [presented(ask, lang, keypad=False), presented(ask, lang, keypad=True)]
    return list(dict.fromkeys(out))


def _fields(name: str, lang: str) -> set[str]:
    en, zh = prompts.PROMPTS[name]
    return {f for _, f, _, _ in string.Formatter().parse(en if lang == "en-US" else zh) if f}


@cache
def _static_set(lang: str) -> frozenset[str]:
    return frozenset(static_sentences(lang))


def is_static(text: str, lang: str) -> bool:
    """Whether a sentence is one of the fixed prompts (cacheable on disk), not one with a caller's data."""
    return text in _static_set(lang)
