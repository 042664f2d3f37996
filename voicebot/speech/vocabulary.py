"""What an utterance recogniser is told to expect: a short text of the line's own words, from the
service catalogue (its services' names) or from a step's few answers (yes/no words).

Whisper takes such a text as the previous sentence of the conversation and leans towards its
words and script; a long list would crowd out the speech, so only short ones are used.
"""

from __future__ import annotations

from functools import cache

from voicebot.catalogue import catalogue

MAX_PHRASES = 30  # a step's answers are spelled out only when there are this few


@cache
def services_hint(lang: str) -> str:
    """The catalogue's service names, as a caller might ask for them."""
    sep = "，" if lang == "zh-CN" else ", "
    names = dict.fromkeys(s.label.get(lang, "") for s in catalogue().services)
    return sep.join(n for n in names if n) + ("。" if lang == "zh-CN" else ".")


def hint_for(phrases: tuple[str, ...] | None, lang: str) -> str:
    """The hint of a step: its answers if they are few and not digit strings, else the services."""
    if phrases and len(phrases) <= MAX_PHRASES:
        return ("，" if lang == "zh-CN" else ", ").join(phrases) + ("。" if lang == "zh-CN" else ".")
    if phrases and all(" " in p for p in phrases[:MAX_PHRASES]) and len(phrases) < 1000:
        return ""  # digit or amount sequences: no words to lean on
    return services_hint(lang)
