"""What the caller hears at the menus, and what a spoken request carries into a service.

Menus are derived from the catalogue: the spoken prompt, its keypad-only form after two
failures, and the words that pick each option. A request's entities pre-fill the slots of the
service it starts.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from voicebot.catalogue import LANGUAGE_KEY, PERSONAL, Catalogue
from voicebot.dialog import prompts
from voicebot.dialog.ask import Ask
from voicebot.nlu.parser import NluResult


def menu_ask(cat: Catalogue, lang: str, path: str) -> Ask:
    """The spoken menu at a key path, derived from the catalogue (and the language key at the entry)."""
    kids = cat.children(path)
    options: dict[str, Any] = dict(kids)
    lines = [prompts.text("menu_item", lang, label=node.label(lang), key=key) for key, node in kids]
    if path == "":
        options[LANGUAGE_KEY] = "switch_language"
        lines.insert(len(lines) - 1, prompts.text("menu_language", lang, key=LANGUAGE_KEY))
    listing = " ".join(lines) + (f" {prompts.text('menu_nav', lang)}" if path else "")
    words = {key: node.group.keywords.get(lang, ()) for key, node in kids if node.group is not None}
    return Ask("menu", f"{prompts.text('menu_speak', lang)} {listing}", listing, options=options, words=words,
               step=f"menu:{path or 'main'}")


def anything_else_ask(lang: str) -> Ask:
    return Ask("menu", prompts.text("anything_else", lang), options={"1": "main_menu", "0": "agent", "2": "goodbye"},
               words={"1": ("main menu", "主菜单"), "2": ("goodbye", "bye", "再见", "结束")}, step="anything_else")


def presented(ask: Ask, lang: str, keypad: bool) -> str:
    """What the caller hears for a step: its prompt, or after failures its keypad-only form."""
    return f"{prompts.text('keypad_only', lang)} {ask.keypad}" if keypad else ask.prompt


def spoken_list(labels: list[str], lang: str) -> str:
    """'a, b or c' / 'a、b、c'."""
    if lang != "en-US":
        return "、".join(labels)
    return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} or {labels[-1]}"


def out_of_scope_text(cat: Catalogue, lang: str) -> str:
    """What a caller hears who asked for something the line does not offer: the families of
    services it does offer (the personal menu's, from the catalogue) and how to reach an agent."""
    areas = [node.label(lang) for _, node in cat.children(PERSONAL) if node.group is not None]
    return prompts.text("out_of_scope", lang, areas=spoken_list(areas, lang))


def slots_from(nlu: NluResult, text: str) -> dict[str, Any]:
    """Slots a spoken request pre-fills: amount, currency, payee, side, period, agent reason."""
    slots: dict[str, Any] = {"utterance": text}
    for name in ("amount", "currency", "payee", "side", "agent_reason"):
        if nlu.entity(name) is not None:
            slots[name] = nlu.entity(name)
    if slots.get("currency") == "CNY":
        del slots["currency"]
    if nlu.entity("date_range"):
        start, end = nlu.entity("date_range").split("/")
        slots["period"] = (date.fromisoformat(start), date.fromisoformat(end))
    return slots
