"""Is the bot's voice understood? Every fixed prompt and a set of prompts with a caller's data,
in each language, rendered by the line's own voice at 8 kHz, through G.711 µ-law, and
recognised back by Whisper base (not the recogniser the bot listens with for English).

Prints, per language, the median and worst character error rate (Mandarin) or word error rate
(English), how many prompts come back above 50%, and the worst prompts with what was heard.

Usage: .venv/bin/python bench/voice_bench.py [--lang en-US|zh-CN|all] [--limit N] [--show N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

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
    """Prompts that carry a caller's data: amounts, card endings, dates, balances, phone numbers."""
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
        reading.digits("13800138000", lang),
        reading.money(888, "USD", lang),
    ]


def run(lang: str, limit: int | None, show: int, wpm: int = 160, trust_silence: bool = False) -> dict:
    synth = Synthesizer(words_per_minute=wpm, sample_rate=8000)
    model = whisper.load(PROJECT_DIR / "models")
    if trust_silence:  # what the words sound like, even where the model doubts anything was said
        model.NO_SPEECH_MAX = 1.01
    fixed, with_data = static_sentences(lang)[:limit], dynamic_sentences(lang)
    sentences = fixed + with_data
    scored, render_s = [], 0.0
    for text in sentences:
        started = time.perf_counter()
        audio = ulaw_roundtrip(synth.render(text, lang))
        render_s += time.perf_counter() - started
        heard = model.transcribe(audio, 8000, lang)
        scored.append((error_rate(text, heard.text, lang), text, heard.text))
    rates = [s[0] for s in scored]
    unit = "CER" if lang == "zh-CN" else "WER"
    print(f"{lang}: {len(scored)} prompts ({len(fixed)} fixed, {len(with_data)} with data), {unit} median "
          f"{statistics.median(rates):.0%}, mean {statistics.mean(rates):.0%}, worst {max(rates):.0%}, "
          f"above 50%: {sum(r > 0.5 for r in rates)}; render {render_s / len(sentences):.2f} s/prompt")
    for rate_, text, heard in sorted(scored, reverse=True)[:show]:
        print(f"  {rate_:4.0%}  {text}\n        heard: {heard}")
    return {"lang": lang, "median": statistics.median(rates), "worst": max(rates),
            "above_half": sum(r > 0.5 for r in rates)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", default="all", choices=[*LANGUAGES, "all"])
    parser.add_argument("--limit", type=int, default=None, help="Only the first N fixed prompts.")
    parser.add_argument("--show", type=int, default=8, help="Show the N worst prompts.")
    parser.add_argument("--wpm", type=int, default=160, help="Speaking rate to try (the line's is 160).")
    parser.add_argument("--no-speech-guard-off", action="store_true",
                        help="Keep what Whisper heard even where it thinks nothing was said.")
    args = parser.parse_args()
    for lang in LANGUAGES if args.lang == "all" else (args.lang,):
        run(lang, args.limit, args.show, args.wpm, args.no_speech_guard_off)


if __name__ == "__main__":
    main()
