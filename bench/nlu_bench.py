"""NLU benchmark: training time, model load time, parse latency, held-out and outside accuracy.

Usage: .venv/bin/python bench/nlu_bench.py [--train] [--lang en-US|zh-CN] [--classifier ours|diet]
--train retrains from scratch (fresh Rasa cache, a temporary models folder) to time training.
--classifier diet swaps voicebot's intent ranker for Rasa's DIET (same features, 80 epochs, as
before issue 16) in a temporary copy of the pipeline: the measurement the choice rests on.
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
from voicebot.nlu.outside import load_outside, outside_files, score
from voicebot.nlu.rasa_backend import RasaInProcess
from voicebot.nlu.training import NluPaths, train

DIET = """  - name: DIETClassifier
    epochs: 80
    number_of_transformer_layers: 0
    entity_recognition: false
    constrain_similarities: true
    random_seed: 1
"""


class BenchPaths(NluPaths):
    """The project's data with a pipeline whose intent classifier is swapped for DIET."""

    def config(self, lang: str) -> Path:
        import re

        text = re.sub(r"  - name: voicebot\.nlu\.intent_classifier\.EncoderIntentClassifier\n(    .*\n)*", DIET,
                      super().config(lang).read_text())
        path = self.models_dir / f"{lang}-diet.yml"
        path.write_text(text)
        return path


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def fresh_load_s(models: Path, lang: str) -> float:
    """What a worker pays before its first answer: Rasa and TensorFlow imports, the model, one parse."""
    import subprocess
    import sys

    code = ("import time; t = time.monotonic(); from pathlib import Path; "
            "from voicebot.nlu.rasa_backend import RasaInProcess; "
            f"p = RasaInProcess(Path({str(models)!r})); p.load({lang!r}); p.parse('hello', {lang!r}); "
            "print(time.monotonic() - t)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", action="store_true", help="time a from-scratch training run too")
    ap.add_argument("--lang", choices=["en-US", "zh-CN"], action="append")
    ap.add_argument("--classifier", choices=["ours", "diet"], default="ours")
    args = ap.parse_args()
    langs = args.lang or ["en-US", "zh-CN"]
    print(f"machine: {machine()}")
    models = PROJECT_DIR / "models" / "nlu"
    if args.train or args.classifier == "diet":
        models = Path(tempfile.mkdtemp(prefix="nlu-bench-"))
        os.environ["RASA_CACHE_DIRECTORY"] = tempfile.mkdtemp(prefix="rasa-cache-")
    paths = (BenchPaths if args.classifier == "diet" else NluPaths)(PROJECT_DIR, models)
    print(f"intent classifier: {args.classifier}")
    for lang in langs:
        _, seconds = train(paths, lang, force=args.train or args.classifier == "diet")
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
        print(f"  model load (in process):   {load_s:.1f} s; in a fresh process, with imports and the first "
              f"parse: {fresh_load_s(models, lang):.1f} s")
        print(f"  parse latency:             median {statistics.median(rounds):.1f} ms, p95 {ev.p95_ms:.1f} ms "
              f"({len(examples)} utterances x 4 rounds)")
        print(f"  held-out intent accuracy:  {ev.intent_accuracy:.1%}")
        print(f"  held-out routing accuracy: {ev.service_accuracy:.1%} (acted on at once: intent -> service)")
        for outside in outside_files(PROJECT_DIR, lang):
            scores = score(parser, lang, load_outside(outside), catalogue(), DialogSettings())
            print(f"  outside ({outside.name}, never trained on):")
            print("\n".join([*scores.lines(), scores.summary()]))
        if not outside_files(PROJECT_DIR, lang):
            print(f"  outside: no collection for {lang}")
    print(f"\npeak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
