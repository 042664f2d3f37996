"""Recorded prompts, as banks' IVRs use them: a voice talent's WAVs in place of the synthesiser.

A bank drops WAV files (any rate) into ``audio_prompts/recorded/<lang>/``:

- ``<prompt id>.wav`` for a fixed prompt (ids from ``voicebot prompts list``: the dialog's
  prompt names, ``menu.<path>`` and ``menu.<path>.keys`` for the menus);
- ``<prompt id>.<n>.wav`` for the n-th fixed piece of a prompt that carries a caller's data
  ("您" 1, "的" 2, "账户余额为" 3 in "您{ending}的{currency}账户余额为{balance}。"; pieces
  that are only punctuation are pauses, not recordings);
- ``fragments/<word>.wav`` for what fills them: digits, number words, units, dates, currency names
  (零 一 两 … 十 百 千 万 元 角 分 年 月 日 尾号 人民币; zero one … hundred thousand yuan).

A sentence is played from recordings only when every piece of it is recorded (the longest
recorded fragment is taken at each point of a value); anything else is synthesised whole,
so a caller never hears two voices in one sentence.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from voicebot.speech.audio import read_wav, resample, trim_leading_silence

PAUSE_S = {",": 0.15, "，": 0.15, "、": 0.1, ".": 0.3, "。": 0.3, "?": 0.3, "？": 0.3, "!": 0.3, "！": 0.3,
           ";": 0.2, "；": 0.2, ":": 0.15, "：": 0.15}
GAP_S = 0.04  # between two fragments of one value
_SPACE_OR_PUNCT = re.compile(r"^[\s\W]*$")


@dataclass(frozen=True)
class Template:
    """A prompt with fields: its fixed pieces (numbered from 1) and the fields between them."""

    prompt_id: str
    pattern: re.Pattern[str]
    pieces: tuple[tuple[int, str], ...]  # (number, text) of each fixed piece, in order
    order: tuple[str, ...]  # "piece:<n>" or "field:<name>", as spoken


def templates(lang: str) -> list[Template]:
    """Every prompt with fields, as a pattern that recovers its values from a sentence."""
    from voicebot.dialog import prompts

    out = []
    for name, (en, zh) in prompts.PROMPTS.items():
        parsed = list(string.Formatter().parse(en if lang == "en-US" else zh))
        if not any(field for _, field, _, _ in parsed):
            continue
        regex, pieces, order, n = "", [], [], 0
        for literal, field, _, _ in parsed:
            if literal:
                regex += re.escape(literal)
                if not _SPACE_OR_PUNCT.match(literal):
                    n += 1
                    pieces.append((n, literal))
                    order.append(f"piece:{n}")
                else:
                    order.append(f"pause:{literal.strip()}")
            if field:
                regex += f"(?P<{field}>.+?)" if f"(?P<{field}>" not in regex else f"(?P={field})"
                order.append(f"field:{field}")
        out.append(Template(name, re.compile(regex + "$"), tuple(pieces), tuple(order)))
    return out


class RecordedPrompts:
    """The recordings under ``root/<lang>/``, read once, at ``rate``; ``get`` answers None where
    a sentence is not wholly recorded."""

    def __init__(self, root: Path, rate: int) -> None:
        self.root, self.rate = root, rate
        self._audio: dict[tuple[str, str], NDArray[Any] | None] = {}

    def available(self, lang: str) -> bool:
        return (self.root / lang).is_dir()

    def recording(self, lang: str, name: str) -> NDArray[Any] | None:
        """One recording (``name`` without .wav, ``fragments/…`` for a fragment), or None."""
        key = (lang, name)
        if key not in self._audio:
            path = self.root / lang / f"{name}.wav"
            audio = None
            if path.is_file():
                samples, rate = read_wav(path)
                audio = trim_leading_silence(resample(samples, rate, self.rate), self.rate)
            self._audio[key] = audio
        return self._audio[key]

    @cached_property
    def _ids(self) -> dict[str, dict[str, str]]:
        from voicebot import LANGUAGES
        from voicebot.dialog.static_prompts import prompt_ids

        return {lang: {text: pid for pid, text in prompt_ids(lang).items()} for lang in LANGUAGES}

    @cached_property
    def _templates(self) -> dict[str, list[Template]]:
        from voicebot import LANGUAGES

        return {lang: templates(lang) for lang in LANGUAGES}

    def fragment_names(self, lang: str) -> list[str]:
        folder = self.root / lang / "fragments"
        names = [p.stem for p in folder.glob("*.wav")] if folder.is_dir() else []
        return sorted(names, key=len, reverse=True)  # longest first: 人民币 before 人

    def get(self, text: str, lang: str) -> NDArray[Any] | None:
        """The sentence from recordings, or None (not every piece of it is recorded)."""
        if not self.available(lang):
            return None
        pid = self._ids.get(lang, {}).get(text)
        if pid is not None:
            return self.recording(lang, pid)
        for template in self._templates.get(lang, ()):
            match = template.pattern.match(text)
            if match:
                return self._assemble(template, match.groupdict(), lang)
        return None

    def _assemble(self, template: Template, values: dict[str, str], lang: str) -> NDArray[Any] | None:
        parts: list[NDArray[Any]] = []
        for item in template.order:
            kind, _, name = item.partition(":")
            if kind == "piece":
                audio = self.recording(lang, f"{template.prompt_id}.{name}")
                if audio is None:
                    return None
                parts.append(audio)
            elif kind == "pause":
                parts.append(self._silence(PAUSE_S.get(name[-1:], 0.1) if name else 0.05))
            else:
                spoken = self.value(values[name], lang)
                if spoken is None:
                    return None
                parts.append(spoken)
        return np.concatenate(parts) if parts else None

    def value(self, text: str, lang: str) -> NDArray[Any] | None:
        """A value (an amount, a card ending, a date, a currency) from fragments, longest first."""
        names, parts, i = self.fragment_names(lang), [], 0
        folded = text.lower()
        while i < len(folded):
            char = folded[i]
            if char.isspace() or (not char.isalnum() and char not in PAUSE_S):
                i += 1
                continue
            if char in PAUSE_S:
                parts.append(self._silence(PAUSE_S[char]))
                i += 1
                continue
            found = next((n for n in names if folded.startswith(n.lower(), i) and _ends_word(folded, i + len(n), lang)),
                         None)
            if found is None:
                return None
            fragment = self.recording(lang, f"fragments/{found}")
            if fragment is None:
                return None
            parts += [fragment, self._silence(GAP_S)]
            i += len(found)
        return np.concatenate(parts) if parts else None

    def _silence(self, seconds: float) -> NDArray[Any]:
        return np.zeros(int(seconds * self.rate), np.int16)


def needed_fragments(lang: str) -> list[str]:
    """The words every value is read with (from the dialog's own readings of amounts in each
    currency, dates, digits and card endings): the fragments a bank records for numbers."""
    from datetime import date, timedelta

    from voicebot.dialog import reading

    samples = [reading.money(minor, code, lang) for code in reading.CURRENCY_NAMES[lang]
               for minor in (1, 100, 101, 1234567, 100000000, 1010100, 2000000, 120000)]
    samples += [reading.account_currency(code, lang) for code in reading.CURRENCY_NAMES[lang]]
    samples += [reading.day(date(2026, 1, 1) + timedelta(days=d), lang) for d in range(0, 365, 1)]
    samples += [reading.digits("0123456789", lang), reading.card_ending("6222020000000100", lang),
                reading.phone_number("13912345678", lang)]
    samples += [reading.number(n, lang) for n in (*range(0, 100), 100, 1000, 10000, 100000000)]
    units: dict[str, None] = {}
    for text in samples:
        for unit in (text if lang == "zh-CN" else text.lower().split()):
            word = unit.strip(",.;:，。") if lang != "zh-CN" else unit
            if word and word.isalpha():  # English amounts are written in numerals: synthesised
                units[word] = None
    return sorted(units)


def _ends_word(text: str, end: int, lang: str) -> bool:
    """English fragments are whole words ("one" is not the start of "ones"); Mandarin has no spaces."""
    return lang != "en-US" or end >= len(text) or not text[end].isalnum()
