"""NLU benchmark: training time, model load time, parse latency and held-out accuracy per language.

Usage: .venv/bin/python bench/nlu_bench.py [--train] [--lang en-US|zh-CN]
--train retrains from scratch (fresh Rasa cache, a temporary models folder) to time training.
Prints one block of figures per language; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import tempfile
import time
from pathlib import Path

from voicebot.catalogue import catalogue
from voicebot.config import PROJECT_DIR
from voicebot.dialog.context import DialogSettings
from voicebot.nlu.data import load_examples
from voicebot.nlu.evaluation import evaluate
from voicebot.nlu.rasa_backend import RasaInProcess
from voicebot.nlu.training import NluPaths, train


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", action="store_true", help="time a from-scratch training run too")
    ap.add_argument("--lang", choices=["en-US", "zh-CN"], action="append")
    args = ap.parse_args()
    langs = args.lang or ["en-US", "zh-CN"]
    print(f"machine: {machine()}")
    models = PROJECT_DIR / "models" / "nlu"
    if args.train:
        models = Path(tempfile.mkdtemp(prefix="nlu-bench-"))
        os.environ["RASA_CACHE_DIRECTORY"] = tempfile.mkdtemp(prefix="rasa-cache-")
    paths = NluPaths(PROJECT_DIR, models)
    for lang in langs:
        _, seconds = train(paths, lang, force=args.train)
        parser = RasaInProcess(models)
        started = time.monotonic()
        parser.load(lang)
        load_s = time.monotonic() - started
        examples = load_examples(paths.heldout(lang))
        for ex in examples[:20]:  # warm up (first zh parse loads Jieba's dictionary)
            parser.parse(ex.text, lang)
        ev, _, _ = evaluate(parser, lang, examples, catalogue(), DialogSettings())
        rounds = [evaluate(parser, lang, examples, catalogue(), DialogSettings())[0].median_ms for _ in range(3)]
        print(f"\n[{lang}] {len(load_examples(paths.data(lang)))} training examples")
        if seconds is not None:
            print(f"  training (from scratch):   {seconds:.1f} s")
        print(f"  model load (in process):   {load_s:.1f} s")
        print(f"  parse latency:             median {statistics.median(rounds):.1f} ms, p95 {ev.p95_ms:.1f} ms "
              f"({len(examples)} utterances x 4 rounds)")
        print(f"  held-out intent accuracy:  {ev.intent_accuracy:.1%}")
        print(f"  held-out routing accuracy: {ev.service_accuracy:.1%} (intent -> catalogue service)")
    print(f"\npeak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
