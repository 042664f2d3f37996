"""Speech benchmark on the en-US Vosk model: speed, memory, and recognition of synthesised callers.

Usage: .venv/bin/python bench/speech_bench.py [--no-quality] [--entry-only] [--lang zh-CN]
(--lang zh-CN: the Mandarin recogniser's figures instead, see bench/mandarin_bench.py)
Figures: model load time and memory, real-time factor (CPU seconds per audio second) for
continuous speech and for a half-silent call with and without the voice-activity gate, an
estimate of concurrent real-time streams on this machine, memory per extra recogniser, and
word error rate plus speech->service routing (through the Rasa model) on espeak-ng speech of
every catalogue service's phrasings at 8 kHz, and of digit strings and amounts said at the
card-number and amount prompts (with those steps' grammars), and human voices reading card numbers at
the card prompt over the call path (bench/real_voices.py; --real-voices for just that). Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.real_voices import card_prompt_figures
from tests.phrases import PHRASES
from voicebot.config import PROJECT_DIR
from voicebot.speech.asr import Final, StreamingRecognizer, VadSettings
from voicebot.speech.audio import StreamUpsampler, read_wav, resample
from voicebot.speech.grammars import commands_for, grammar_for, in_vocabulary
from voicebot.speech.recognizers import RecognizerPool, load_model

MODELS = PROJECT_DIR / "models"


def rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def speak(text: str, voice: str = "en-us+m3") -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "140", "-w", str(wav), text], check=True)
        samples, rate = read_wav(wav)
    return resample(samples, rate, 8000)


def run(rec: StreamingRecognizer, audio: np.ndarray) -> tuple[list[Final], float]:
    finals = []
    cpu = time.process_time()
    for i in range(0, len(audio) - 159, 160):
        finals += [e for e in rec.feed(audio[i:i + 160]) if isinstance(e, Final)]
    tail = rec.flush()
    if tail:
        finals.append(tail)
    return finals, time.process_time() - cpu


def wer(ref: str, hyp: str) -> tuple[int, int]:
    r, h = ref.split(), hyp.split()
    d = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(h) + 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (r[i - 1] != h[j - 1]))
    return d[-1], len(r)


_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen " \
        "sixteen seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def say_number(n: int) -> str:
    """English words for 0 <= n < 1,000,000, as a caller says an amount ("two thousand five hundred")."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + (f" {_ONES[n % 10]}" if n % 10 else "")
    if n < 1000:
        return f"{_ONES[n // 100]} hundred" + (f" {say_number(n % 100)}" if n % 100 else "")
    return f"{say_number(n // 1000)} thousand" + (f" {say_number(n % 1000)}" if n % 1000 else "")


def entry_quality(model: object, n: int = 30) -> None:
    """Digit strings at a card-number prompt and amounts at an amount prompt, each with its step's
    grammar and navigation commands as the dialog sets them: word error rate, how often the value
    the dialog takes is exactly what was said, and decoding CPU per second of audio; then navigation
    phrases said at the card-number prompt (heard word for word, and how many needed free recognition)."""
    from voicebot.nlu.numbers import parse_amount, parse_digits

    rng = np.random.default_rng(1)
    digit_words = _ONES[:10]
    parse = {"card_number": parse_digits, "amount": parse_amount}
    cases = {
        "card_number": [" ".join(digit_words[d] for d in rng.integers(0, 10, int(rng.choice([4, 6, 8]))))
                        for _ in range(n)],
        "amount": [say_number(int(v)) for v in rng.choice(
            [*rng.integers(1, 100, n // 3), *rng.integers(1, 20, n // 3) * 50, *rng.integers(100, 20000, n // 3)],
            n, replace=False)],
    }
    commands = commands_for("card_number", "en-US") or ()
    navigation = [commands[int(i)] for i in rng.choice(len(commands), min(n, len(commands)), replace=False)]
    for step, said in [*cases.items(), ("navigation", navigation)]:
        grammar_step = "card_number" if step == "navigation" else step
        rec = StreamingRecognizer(model, 8000, grammar=grammar_for(grammar_step, "en-US"),
                                  commands=commands_for(grammar_step, "en-US"))
        run(rec, np.concatenate([speak(said[0]), np.zeros(12000, np.int16)]))  # its recognisers warmed
        rec.fallbacks = {"early": 0, "late": 0}
        errors = words = exact = 0
        cpu = seconds = 0.0
        for phrase in said:
            audio = np.concatenate([np.zeros(8000, np.int16), speak(phrase), np.zeros(12000, np.int16)])
            finals, used = run(rec, audio)
            cpu, seconds = cpu + used, seconds + len(audio) / 8000
            text = " ".join(f.text for f in finals)
            e, w = wer(phrase, text)
            errors, words = errors + e, words + w
            exact += parse[step](text) == parse[step](phrase) if step in parse else text == phrase
        rec.close()
        where = "card-number prompt" if step == "navigation" else "prompt"
        print(f"{step} {where}: {len(said)} espeak-ng utterances at 8 kHz: WER {errors / words:.1%}, "
              f"{'heard word for word' if step == 'navigation' else 'value taken exactly'} {exact}/{len(said)}, "
              f"free recognition {sum(rec.fallbacks.values())}, decoding {cpu / seconds * 1000:.0f} ms CPU "
              f"per s of call audio")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-quality", action="store_true", help="skip the WER / routing part")
    ap.add_argument("--entry-only", action="store_true", help="only digit strings and amounts (quality)")
    ap.add_argument("--real-voices", action="store_true", help="only human voices at the card prompt")
    ap.add_argument("--lang", default="en-US", choices=["en-US", "zh-CN"], help="zh-CN: Mandarin figures only")
    args = ap.parse_args()
    if args.lang == "zh-CN":
        from bench.mandarin_bench import run

        shared = PROJECT_DIR.parent / "shared" / "data" / "mandarin"
        return run(MODELS, shared if shared.is_dir() else Path("/tmp/shared/data/mandarin"))
    if args.entry_only:
        return entry_quality(load_model(MODELS, "en-US"))
    if args.real_voices:
        return card_prompt_figures(load_model(MODELS, "en-US"))
    base = rss_mb()
    started = time.monotonic()
    model = load_model(MODELS, "en-US")
    print(f"model load: {time.monotonic() - started:.2f} s, +{rss_mb() - base:.0f} MB RSS")

    speech = np.concatenate([speak(p) for p in PHRASES["en-US"]["account.balance"] * 4])
    quiet = np.random.default_rng(0).normal(0, 25, len(speech)).astype(np.int16)  # line hiss, about -62 dBFS
    half_silent = np.concatenate([x for pair in zip(np.array_split(speech, 8), np.array_split(quiet, 8), strict=True)
                                  for x in pair])
    no_gate = VadSettings(detector="energy", min_dbfs=-200, above_floor_db=-200, endpoint_ms=10**9)
    # recognisers are pooled and a new one costs more on its first turns (recognizers.RecognizerPool):
    # the figures below are for warm ones, as a running server has them
    warm = time.process_time()
    run(StreamingRecognizer(model, 8000, no_gate), speech)
    print(f"first pass on a new recogniser (warm-up, not in the figures below): "
          f"real-time factor {(time.process_time() - warm) / (len(speech) / 8000):.3f}")
    for label, audio in (("continuous speech", speech), ("half-silent call", half_silent),
                         ("caller listening (line hiss only)", quiet)):
        seconds = len(audio) / 8000
        _, gated = run(StreamingRecognizer(model, 8000), audio)
        _, ungated = run(StreamingRecognizer(model, 8000, no_gate), audio)
        print(f"{label} ({seconds:.0f} s audio): real-time factor {gated / seconds:.3f} gated, "
              f"{ungated / seconds:.3f} ungated ({ungated / max(gated, 1e-9):.1f}x)")
        if label == "half-silent call":
            print(f"  -> about {int(os.cpu_count() / (gated / seconds))} concurrent real-time calls on "
                  f"{os.cpu_count()} cores (recognition alone)")
    # a call's StreamingRecognizer borrows Vosk recognisers from a pool (recognizers.RecognizerPool):
    # the memory is in those, held here the way 10 simultaneous turns hold them
    pool, turn = RecognizerPool(model, 16000), StreamUpsampler(8000, 16000)(speech[:8000 * 2]).tobytes()
    held = []  # kept till the end: freed memory would be reused by the next kind
    for label, grammar in (("menu-grammar", in_vocabulary(model, grammar_for("menu", "en-US"))), ("free", None)):
        before = rss_mb()
        extra = [pool.acquire(grammar) for _ in range(10)]
        held += extra
        new = (rss_mb() - before) / 10
        for rec in extra:
            rec.AcceptWaveform(turn)  # its decoding graph is composed as it is used, and kept
        print(f"10 extra {label} recognisers: +{new:.1f} MB each new, "
              f"+{(rss_mb() - before) / 10:.1f} MB each after one 2 s turn")
    del held

    if args.no_quality:
        return
    from voicebot.nlu.rasa_backend import RasaInProcess

    nlu = RasaInProcess(MODELS / "nlu")
    modes = (("free recognition", None), ("menu-biased (free as fallback)", grammar_for("menu", "en-US")))
    for label, grammar in modes:
        errors = words = routed = total = 0
        misses = []
        for service, phrases in PHRASES["en-US"].items():
            for phrase in phrases:
                audio = np.concatenate([np.zeros(8000, np.int16), speak(phrase), np.zeros(12000, np.int16)])
                finals, _ = run(StreamingRecognizer(model, 8000, grammar=grammar), audio)
                text = " ".join(f.text for f in finals)
                e, n = wer(phrase, text)
                errors, words, total = errors + e, words + n, total + 1
                parsed = nlu.parse(text, "en-US") if text else None
                if parsed and parsed.service == service:
                    routed += 1
                else:
                    misses.append((phrase, text, parsed.intent if parsed else None))
        print(f"{label}: espeak-ng speech, 8 kHz, {total} phrasings of {len(PHRASES['en-US'])} services: "
              f"WER {errors / words:.1%}, speech->service routing {routed / total:.1%}")
        for phrase, text, intent in misses[:8]:
            print(f"  miss: {phrase!r} heard as {text!r} -> {intent}")
    entry_quality(model)
    card_prompt_figures(model)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; "
          f"median word count {statistics.median(len(p.split()) for v in PHRASES['en-US'].values() for p in v)}")


if __name__ == "__main__":
    main()
