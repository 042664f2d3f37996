"""Training the Rasa NLU models: one per language, retrained only when its inputs change."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from voicebot.nlu.data import load_examples
from voicebot.nlu.rasa_backend import prepare_environment, quiet_rasa_logging

log = logging.getLogger("voicebot.nlu")


# our own pipeline components: a change to their code makes a model out of date too
_COMPONENTS = tuple(Path(__file__).parent / f for f in ("sentence_encoder.py", "intent_classifier.py"))


@dataclass(frozen=True)
class NluPaths:
    """Where a language's pipeline, data, held-out set and model live (relative to ``root``)."""

    root: Path
    models_dir: Path

    def config(self, lang: str) -> Path:
        return self.root / "config" / "nlu" / f"{lang}.yml"

    def data(self, lang: str) -> Path:
        return self.root / "nlu_data" / lang

    def heldout(self, lang: str) -> Path:
        return self.root / "nlu_data" / "heldout" / f"{lang}.yml"

    def model(self, lang: str) -> Path:
        return self.models_dir / f"{lang}.tar.gz"

    def stamp(self, lang: str) -> Path:
        return self.models_dir / f"{lang}.sha256"

    def inputs(self, lang: str) -> list[Path]:
        extra = sorted((self.root / "config" / "nlu" / "jieba").glob("*")) if lang == "zh-CN" else []
        return [self.config(lang), *sorted(self.data(lang).rglob("*.yml")), *extra, *_COMPONENTS]


def fingerprint(paths: NluPaths, lang: str) -> str:
    digest = hashlib.sha256()
    for path in paths.inputs(lang):
        inside = path.is_relative_to(paths.root) and path not in _COMPONENTS
        digest.update((path.relative_to(paths.root).as_posix() if inside else path.name).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def is_current(paths: NluPaths, lang: str) -> bool:
    stamp = paths.stamp(lang)
    return paths.model(lang).exists() and stamp.exists() and stamp.read_text().strip() == fingerprint(paths, lang)


def train(paths: NluPaths, lang: str, *, force: bool = False) -> tuple[Path, float | None]:
    """Train ``lang`` unless its model is current; returns the model and the seconds spent (None if skipped)."""
    if not force and is_current(paths, lang):
        return paths.model(lang), None
    examples = load_examples(paths.data(lang))
    if not examples:
        raise ValueError(f"no training examples in {paths.data(lang)}")
    prepare_environment(paths.root / "var" / "rasa-cache")
    from rasa.model_training import train_nlu

    quiet_rasa_logging()
    paths.models_dir.mkdir(parents=True, exist_ok=True)
    log.info("training %s on %d examples", lang, len(examples))
    started = time.monotonic()
    with _cwd(paths.root):  # the pipeline names the Jieba dictionary relative to the project
        result = train_nlu(str(paths.config(lang)), str(paths.data(lang)), str(paths.models_dir),
                           fixed_model_name=lang)
    if not result:
        raise RuntimeError(f"Rasa did not produce a model for {lang}")
    paths.stamp(lang).write_text(fingerprint(paths, lang) + "\n")
    return paths.model(lang), time.monotonic() - started


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)
