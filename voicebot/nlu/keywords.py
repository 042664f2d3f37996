"""A keyword parser over the catalogue's own words: for tests and for running without Rasa.

It matches the longest catalogue keyword found in the utterance and extracts amounts and
currencies with the deterministic normaliser, so the dialog has the same seam either way.
"""

from __future__ import annotations

import re

from voicebot.catalogue import Catalogue, catalogue
from voicebot.dialog.context import DialogSettings
from voicebot.nlu import entities
from voicebot.nlu.focus import focus
from voicebot.nlu.parser import NluResult
from voicebot.nlu.routing import route


class KeywordParser:
    """Longest-keyword matching of intents over the catalogue's words."""

    def __init__(self, cat: Catalogue | None = None, settings: DialogSettings | None = None) -> None:
        self.cat = cat or catalogue()
        self.settings = settings or DialogSettings()
        self.table: dict[str, list[tuple[str, str]]] = {}
        for lang in ("en-US", "zh-CN"):
            rows = [(kw, s.id) for s in self.cat.services for kw in s.keywords.get(lang, ())]
            rows += [(kw, i.id) for i in self.cat.intents for kw in i.keywords.get(lang, ())]
            self.table[lang] = sorted(rows, key=lambda r: -len(r[0]))

    def parse(self, text: str, lang: str) -> NluResult:
        text = focus(text, lang)
        norm = " ".join(re.findall(r"[\w']+", text.lower()))
        intent, confidence = "out_of_scope", 0.3
        for kw, name in self.table[lang]:
            if _contains(norm, kw, lang):
                intent = name
                confidence = 0.85  # a catalogue word was said: sure enough to act, never certain
                break
        service = route(intent, confidence, self.settings, self.cat)
        return NluResult(text, intent, confidence, service, entities.extract(text))


def _contains(norm: str, kw: str, lang: str) -> bool:
    if lang == "zh-CN" and re.search(r"[\u4e00-\u9fff]", kw):
        return kw in norm.replace(" ", "")
    return re.search(rf"(?<![\w']){re.escape(kw)}(?![\w'])", norm) is not None
