"""Is the bot's voice understood? Every fixed prompt and a set of prompts with a caller's data,
in each language, rendered by the line's own voice at 8 kHz with 0.3 s of silence either side (as
a line plays it), through G.711 µ-law, and recognised back by Whisper base (not the recogniser
the bot listens with for English) a sentence at a time.

Prints, per language, the median and worst character error rate (Mandarin) or word error rate
(English), how many prompts come back above 50%, and the worst prompts with what was heard.

Usage: .venv/bin/python bench/voice_bench.py [--lang en-US|zh-CN|all] [--limit N] [--show N]
       [--voice line|kokoro:STYLE]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from tests.voices import ulaw_roundtrip  # noqa: E402
from voicebot import LANGUAGES  # noqa: E402
from voicebot.dialog import prompts, reading  # noqa: E402
from voicebot.dialog.static_prompts import static_sentences  # noqa: E402
from voicebot.speech import whisper  # noqa: E402
from voicebot.speech.scoring import error_rate  # noqa: E402
from voicebot.speech.tts import Synthesizer  # noqa: E402


def dynamic_sentences(lang: str) -> list[str]:
    """Prompts that carry a caller's data: amounts, card endings, dates, balances, phone numbers, a place
    in the agent queue."""
    t = prompts.text
    return [
        t("balance_line", lang, currency=reading.account_currency("CNY", lang), ending=reading.card_ending(
            "6222020000000100", lang), balance=reading.money(1234567, "CNY", lang)),
        t("done_balance", lang, currency=reading.account_currency("CNY", lang), balance=reading.money(250000, "CNY",
                                                                                                      lang)),
        t("over_balance", lang, balance=reading.money(98050, "CNY", lang)),
        t("confirm_transfer", lang, amount=reading.money(50000, "CNY", lang), payee="张伟" if lang == "zh-CN"
          else "Li Wei", ending=reading.card_ending("6222020000000003", lang),
          service="同城转账" if lang == "zh-CN" else "same-city transfer"),
        reading.day(date(2026, 12, 6), lang),
        t("number_bill_due", lang, label="手机费" if lang == "zh-CN" else "mobile phone bill",
          number=reading.phone_number("13912345678", lang), amount=reading.money(4500, "CNY", lang),
          day=reading.day(date(2026, 12, 16), lang)),
        reading.money(888, "USD", lang),
        t("queue_position", lang, place="3", wait=t("wait_minutes", lang, minutes=reading.number(6, lang))),
    ]


SENTENCE_END = re.compile(r"(?<=[。！？])|(?<=[.!?])\s+")


def on_the_line(audio: np.ndarray, pad_s: float = 0.3) -> np.ndarray:
    """The prompt as a line plays it: silence before and after (the recogniser, like an ear, hears
    the start of the first word; cut straight into it, Whisper often hears nothing at all)."""
    pad = np.zeros(int(pad_s * 8000), np.int16)
    return np.concatenate([pad, audio.astype(np.int16), pad])


def voice(name: str, wpm: int) -> Callable[[str, str], np.ndarray]:
    """The renderer of ``name``: 'line' (the bot's own) or 'kokoro:STYLE' (the test callers' voice,
    tests/mandarin_voice.py: measured as a candidate, not shipped)."""
    if name.startswith("kokoro:"):
        from tests.mandarin_voice import say

        return lambda text, lang: say(text, name.split(":", 1)[1])
    return Synthesizer(words_per_minute=wpm, sample_rate=8000).render


def run(lang: str, limit: int | None, show: int, wpm: int = 160, trust_silence: bool = False,
        voice_name: str = "line") -> dict:
    render = voice(voice_name, wpm)
    model = whisper.load(PROJECT_DIR / "models")
    if trust_silence:  # what the words sound like, even where the model doubts anything was said
        model.NO_SPEECH_MAX = 1.01
    fixed = static_sentences(lang)[:limit]
    # a fixed prompt without a sentence's end ("借记", "today") is a word the dialog puts into sentences
    said_alone = [t for t in fixed if SENTENCE_END.search(t) or t.rstrip()[-1:] in "。！？.!?"]
    pieces = [t for t in fixed if t not in said_alone]
    timing = {"render_s": 0.0, "renders": 0}
    result = {}
    for group, texts in (("sentences", said_alone + dynamic_sentences(lang)), ("words", pieces)):
        scored = [score(text, lang, render, model, timing) for text in texts]
        if not scored:
            continue
        rates = [s[0] for s in scored]
        unit = "CER" if lang == "zh-CN" else "WER"
        what = (f"{len(said_alone)} fixed, {len(texts) - len(said_alone)} with data" if group == "sentences"
                else "pieces of sentences, heard alone")
        print(f"{lang} ({voice_name}) {group}: {len(scored)} ({what}), {unit} median {statistics.median(rates):.0%}, "
              f"mean {statistics.mean(rates):.0%}, worst {max(rates):.0%}, above 50%: {sum(r > 0.5 for r in rates)}")
        for rate_, text, heard in sorted(scored, reverse=True)[:show]:
            print(f"  {rate_:4.0%}  {text}\n        heard: {heard}")
        result[group] = {"median": statistics.median(rates), "worst": max(rates),
                         "above_half": sum(r > 0.5 for r in rates)}
    print(f"render: {timing['render_s'] / max(timing['renders'], 1):.2f} s per sentence")
    return {"lang": lang, **result}


def score(text: str, lang: str, render: Callable[[str, str], np.ndarray], model: whisper.WhisperRecognizer,
          timing: dict) -> tuple[float, str, str]:
    """(error rate, text, what was heard), heard a sentence at a time as a listener does."""
    heard = []
    for sentence in SENTENCE_END.split(text):
        if not sentence.strip():
            continue
        started = time.perf_counter()
        audio = ulaw_roundtrip(on_the_line(render(sentence.strip(), lang)))
        timing["render_s"] += time.perf_counter() - started
        timing["renders"] += 1
        heard.append(model.transcribe(audio, 8000, lang).text)
    said = ("" if lang == "zh-CN" else " ").join(heard)
    return error_rate(text, said, lang), text, said


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", default="all", choices=[*LANGUAGES, "all"])
    parser.add_argument("--limit", type=int, default=None, help="Only the first N fixed prompts.")
    parser.add_argument("--show", type=int, default=8, help="Show the N worst prompts.")
    parser.add_argument("--wpm", type=int, default=160, help="Speaking rate to try (the line's is 160).")
    parser.add_argument("--no-speech-guard-off", action="store_true",
                        help="Keep what Whisper heard even where it thinks nothing was said.")
    parser.add_argument("--speed", type=float, default=None,
                        help="The neural Mandarin voice's duration ratio to try (above 1: slower).")
    parser.add_argument("--voice", default="line",
                        help="'line' (the bot's voice) or 'kokoro:STYLE', e.g. kokoro:jf_tebukuro (Mandarin).")
    args = parser.parse_args()
    if args.speed:
        from voicebot.speech import zh_neural

        zh_neural.SPEED = args.speed
    for lang in LANGUAGES if args.lang == "all" else (args.lang,):
        run(lang, args.limit, args.show, args.wpm, args.no_speech_guard_off, args.voice)


if __name__ == "__main__":
    main()
