"""Mandarin recognition figures (Whisper base, int8, fitted window) for bench/speech_bench.py --lang zh-CN.

- character error rate on the 120 real AISHELL-1 utterances of ../shared/data/mandarin, at 8 kHz
  through G.711 µ-law, endpointed by the call recogniser's VAD (numbers compared as values);
- CPU-seconds per utterance (all, and those up to 5 s);
- spoken banking requests (tests/phrases.py, the first two per service) in a voice other than the
  bot's (Kokoro with a Japanese style, tests/mandarin_voice.py), on a quiet line, recognised as at
  a menu (the catalogue's services in the prompt): how often they reach the right service (Rasa);
- 10 callers at once, each speaking in real time from a staggered start: time from the end of
  their speech to the final result (it includes the endpoint's trailing silence, 700 ms), and to
  the reply's first audio being ready (the NLU's parse and the line's voice rendering the first
  clause of a sentence with the caller's data, which no cache holds), median and worst.
"""

from __future__ import annotations

import csv
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from tests.voices import ulaw_roundtrip
from voicebot.speech import backends
from voicebot.speech.asr import Final, VadSettings
from voicebot.speech.audio import read_wav, resample
from voicebot.speech.scoring import distance, normalise

FRAME = 160  # 20 ms at 8 kHz


def utterances(folder: Path) -> list[tuple[str, np.ndarray]]:
    rows = list(csv.reader((folder / "transcripts.tsv").open(encoding="utf-8"), delimiter="\t"))[1:]
    out = []
    for utt, text in rows:
        samples, rate = read_wav(folder / f"{utt}.wav")
        out.append((text, ulaw_roundtrip(resample(samples, rate, 8000)).astype(np.int16)))
    return out


def accuracy(backend: backends.SpeechBackend, data: list[tuple[str, np.ndarray]]) -> None:
    errors = units = 0
    cpu_all, cpu_short = [], []
    for text, audio in data:
        rec = backend.recognizer(8000)
        padded = np.concatenate([np.zeros(4000, np.int16), audio, np.zeros(8000, np.int16)])
        heard, cpu = [], 0.0
        for start in range(0, len(padded) - FRAME + 1, FRAME):
            before = time.process_time()
            heard += [e.text for e in rec.feed(padded[start:start + FRAME]) if isinstance(e, Final)]
            cpu += time.process_time() - before
        ref, hyp = normalise(text, "zh-CN"), normalise("".join(heard), "zh-CN")
        errors += distance(ref, hyp)
        units += len(ref)
        cpu_all.append(cpu)
        if len(audio) <= 5 * 8000:
            cpu_short.append(cpu)
    seconds = statistics.mean(len(a) / 8000 for _, a in data)
    print(f"zh-CN real read speech (AISHELL-1, {len(data)} utterances, mean {seconds:.1f} s, 8 kHz µ-law): "
          f"CER {errors / units:.1%}")
    print(f"CPU per utterance: median {statistics.median(cpu_all):.2f} s (all), "
          f"{statistics.median(cpu_short):.2f} s (the {len(cpu_short)} up to 5 s), worst {max(cpu_all):.2f} s")


def concurrent(backend: backends.SpeechBackend, data: list[tuple[str, np.ndarray]], callers: int = 10,
               turns: int = 3) -> None:
    """Each caller says ``turns`` utterances in real time with pauses; delays after their speech ends,
    to the final result and to the reply's audio."""
    from voicebot.config import load_config, make_parser
    from voicebot.dialog import prompts, reading
    from voicebot.speech.tts import PromptCache, Synthesizer

    parser = make_parser(load_config())
    parser.load("zh-CN")
    voice = PromptCache(Path(tempfile.mkdtemp()), Synthesizer(sample_rate=8000), keep=lambda text, lang: False)
    reply = prompts.text("done_balance", "zh-CN", currency=reading.account_currency("CNY", "zh-CN"),
                         balance=reading.money(1234567, "CNY", "zh-CN"))
    delays: list[float] = []
    replies: list[float] = []
    lock = threading.Lock()
    rng = np.random.default_rng(3)

    def caller(n: int) -> None:
        rec = backend.recognizer(8000, VadSettings())
        time.sleep(float(rng.uniform(0, 3)))
        for t in range(turns):
            _, audio = data[(n * turns + t) % len(data)]
            padded = np.concatenate([audio, np.zeros(8000 * 2, np.int16)])
            started = time.monotonic()
            speech_end = started + len(audio) / 8000
            for i, start in enumerate(range(0, len(padded) - FRAME + 1, FRAME)):
                due = started + i * 0.02
                if (wait := due - time.monotonic()) > 0:
                    time.sleep(wait)
                final = next((e for e in rec.feed(padded[start:start + FRAME]) if isinstance(e, Final) and e.text),
                             None)
                if final is not None:
                    heard = time.monotonic() - speech_end
                    parser.parse(final.text, "zh-CN")
                    first, *rest = voice.parts(reply, "zh-CN")  # played as it is ready, as calls do
                    voice.get(first, "zh-CN")
                    with lock:
                        delays.append(heard)
                        replies.append(time.monotonic() - speech_end)
                    for part in rest:  # rendered while the first plays
                        voice.get(part, "zh-CN")

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(callers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    print(f"{callers} callers at once, {len(delays)} turns: final result {statistics.median(delays):.2f} s median, "
          f"{max(delays):.2f} s worst after the caller stopped (700 ms of it is the endpoint's silence); "
          f"reply audio ready {statistics.median(replies):.2f} s median, {max(replies):.2f} s worst")


def requests(backend: backends.SpeechBackend, voice: str = "jm_kumo") -> None:
    from tests.mandarin_voice import on_the_line, say
    from tests.phrases import PHRASES
    from voicebot.config import load_config, make_parser
    from voicebot.speech.grammars import grammar_for
    from voicebot.speech.vocabulary import hint_for

    parser = make_parser(load_config())
    parser.load("zh-CN")
    hint = hint_for(grammar_for("menu", "zh-CN"), "zh-CN")  # what a call's recogniser is told at a menu
    right = total = 0
    for service, phrases in PHRASES["zh-CN"].items():
        for phrase in phrases[:2]:
            heard = backend.model.transcribe(ulaw_roundtrip(on_the_line(say(phrase, voice))), 8000, "zh-CN", hint).text
            result = parser.parse(heard, "zh-CN") if heard else None
            total += 1
            right += bool(result and result.service == service)
    print(f"spoken requests ({voice}, {total} of them, {len(PHRASES['zh-CN'])} services): "
          f"{right / total:.0%} reach their service")


def run(models: Path, data_dir: Path) -> None:
    started = time.monotonic()
    backend = backends.load(models, "zh-CN")
    print(f"zh-CN engine: {backend.engine}, loaded in {time.monotonic() - started:.1f} s")
    data = utterances(data_dir)
    accuracy(backend, data)
    requests(backend)
    concurrent(backend, data)
