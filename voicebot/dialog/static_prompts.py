"""Every sentence the dialog says that does not depend on the caller's data: pre-rendered at set-up."""

from __future__ import annotations

import string
from functools import cache

from voicebot.catalogue import Catalogue, catalogue
from voicebot.dialog import prompts
from voicebot.dialog.menus import anything_else_ask, menu_ask, out_of_scope_text, presented


def prompt_ids(lang: str, cat: Catalogue | None = None) -> dict[str, str]:
    """Every fixed sentence by its id: the prompt's name (filled in where its fields are the
    catalogue's), or ``menu.<path>`` (``.keys``: the keypad-only form) for a catalogue menu and
    ``menu.anything_else`` for the closing question."""
    cat = cat or catalogue()
    out: dict[str, str] = {}
    for name in prompts.PROMPTS:
        if not _fields(name, lang):
            text = prompts.text(name, lang)
            if text:
                out[name] = text
    out["out_of_scope"] = out_of_scope_text(cat, lang)  # its fields are the catalogue's, not a caller's
    asks = [(f"menu.{g.path or 'main'}", menu_ask(cat, lang, g.path)) for g in cat.groups]
    for pid, ask in [*asks, ("menu.anything_else", anything_else_ask(lang))]:
        out[pid] = presented(ask, lang, keypad=False)
        out[f"{pid}.keys"] = presented(ask, lang, keypad=True)
    return out


def static_sentences(lang: str, cat: Catalogue | None = None) -> list[str]:
    """Fixed prompts plus every catalogue menu, as spoken and in keypad-only form, without repeats."""
    return list(dict.fromkeys(prompt_ids(lang, cat).values()))


def _fields(name: str, lang: str) -> set[str]:
    en, zh = prompts.PROMPTS[name]
    return {f for _, f, _, _ in string.Formatter().parse(en if lang == "en-US" else zh) if f}


@cache
def _static_set(lang: str) -> frozenset[str]:
    return frozenset(static_sentences(lang))


def is_static(text: str, lang: str) -> bool:
    """Whether a sentence is one of the fixed prompts (cacheable on disk), not one with a caller's data."""
    return text in _static_set(lang)
