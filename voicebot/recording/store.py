"""Where recordings are kept: one folder per day, each call a sealed FLAC file and a JSON line of
what it is (call id, start, duration, language, region, services, paused spans). The JSON holds
no words and no audio, so listing and purging need no key; the audio needs it.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from numpy.typing import NDArray

from voicebot.recording.sealing import RecordingKey

log = logging.getLogger("voicebot.recording")

CHANNELS = ("caller", "bot", "agent")
SEALED = ".flac.sealed"
TRANSCRIPT = ".transcript.sealed"


@dataclass
class RecordingInfo:
    """What a recording is; ``paused_spans``: [start_s, end_s] pairs where card data was collected."""

    call_id: str
    started_at: str  # ISO 8601 with the offset
    duration_s: float
    language: str
    region: str
    channel: str  # sip | browser
    services: list[str] = field(default_factory=list)
    outcome: str | None = None
    paused_spans: list[list[float]] = field(default_factory=list)
    rate: int = 8000
    channels: list[str] = field(default_factory=lambda: list(CHANNELS))
    codec: str = "flac"
    cipher: str = "AES-256-GCM"
    key_id: str = ""
    file: str = ""  # the sealed audio, beside this JSON

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def started(self) -> datetime:
        return datetime.fromisoformat(self.started_at)


class RecordingNotFound(LookupError):
    pass


class RecordingStore:
    """Recordings under ``root``: ``save`` seals and writes one, ``infos`` lists, ``audio`` opens, ``purge``."""

    def __init__(self, root: Path, key: RecordingKey | None, keep_days: int) -> None:
        self.root, self.key, self.keep_days = root, key, keep_days

    def save(self, info: RecordingInfo, flac: bytes, transcript: list[dict[str, Any]] | None = None) -> Path:
        """Seal and write a call's recording and transcript; the index last, so a listed recording
        has its audio."""
        if self.key is None:
            raise RuntimeError("recordings are written with a key")
        day = self.root / info.started.date().isoformat()
        day.mkdir(parents=True, exist_ok=True)
        name = _file_name(info.call_id)
        info.file, info.key_id = name + SEALED, self.key.key_id.hex()
        _write(day / info.file, self.key.seal(flac, info.call_id))
        words = json.dumps(transcript or [], ensure_ascii=False).encode()
        _write(day / (name + TRANSCRIPT), self.key.seal(words, info.call_id))
        meta = day / f"{name}.json"
        _write(meta, json.dumps(info.to_json(), ensure_ascii=False).encode())
        return meta

    def infos(self) -> Iterator[RecordingInfo]:
        """Every recording, oldest day first (within a day, by start)."""
        if not self.root.exists():
            return
        for day in sorted(p for p in self.root.iterdir() if p.is_dir()):
            yield from self._read_day(day)

    def _read_day(self, day: Path) -> list[RecordingInfo]:
        found = [info for meta in (day.glob("*.json") if day.is_dir() else ()) if (info := self._read(meta))]
        return sorted(found, key=lambda info: info.started_at)

    @staticmethod
    def _read(meta: Path) -> RecordingInfo | None:
        try:
            return RecordingInfo(**json.loads(meta.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            log.warning("recording index %s unreadable (%s): skipped", meta, exc)
            return None

    def infos_of_day(self, day: date) -> list[RecordingInfo]:
        """The recordings of calls that started on ``day``."""
        return self._read_day(self.root / day.isoformat())

    def find(self, call_id: str) -> RecordingInfo:
        """The recording of ``call_id`` (as its CDR names it), by its file name: no index is read but its own."""
        for meta in sorted(self.root.glob(f"*/{_file_name(call_id)}.json")) if self.root.exists() else ():
            info = self._read(meta)
            if info is not None and info.call_id == call_id:
                return info
        raise RecordingNotFound(call_id)

    def audio(self, info: RecordingInfo) -> NDArray[np.int16]:
        """The recording's samples, (n, channels) int16, decrypted."""
        flac = self._open(self._path(info, SEALED), info)
        samples: NDArray[np.int16] = sf.read(io.BytesIO(flac), dtype="int16", always_2d=True)[0]
        return samples

    def transcript(self, info: RecordingInfo) -> list[dict[str, Any]]:
        """The call's transcript (masked as the log is), decrypted: [{"t", "who", "text"}]."""
        path = self._path(info, TRANSCRIPT)
        lines: list[dict[str, Any]] = json.loads(self._open(path, info)) if path.exists() else []
        return lines

    def _path(self, info: RecordingInfo, suffix: str) -> Path:
        return self.root / info.started.date().isoformat() / (info.file.removesuffix(SEALED) + suffix)

    def _open(self, path: Path, info: RecordingInfo) -> bytes:
        if self.key is None:
            raise RuntimeError("no key to open recordings")
        return self.key.open(path.read_bytes(), info.call_id)

    def purge(self, now: datetime | None = None) -> int:
        """Remove recordings older than ``keep_days``; how many went."""
        now = now or datetime.now().astimezone()
        cutoff = now - timedelta(days=self.keep_days)
        gone = 0
        if not self.root.exists():
            return 0
        for info in list(self.infos()):
            if info.started < cutoff:
                for suffix in (".json", SEALED, TRANSCRIPT):
                    self._path(info, suffix).unlink(missing_ok=True)
                gone += 1
        for day in self.root.iterdir():
            if day.is_dir() and not any(day.iterdir()):
                shutil.rmtree(day, ignore_errors=True)
        if gone:
            log.info("recordings purged: %d older than %d days", gone, self.keep_days)
        return gone


def mixed(samples: NDArray[np.int16]) -> NDArray[np.int16]:
    """The channels of a recording (n, channels) mixed to one, as a listener hears the call."""
    out: NDArray[np.int16] = np.clip(samples.astype(np.int32).sum(axis=1), -32768, 32767).astype(np.int16)
    return out


class PurgeTimer:
    """Purges a store now and every ``every_h`` hours, on a daemon thread of its own."""

    def __init__(self, store: RecordingStore, every_h: float) -> None:
        self.store, self.every_s = store, every_h * 3600
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="recording-purge", daemon=True)

    def start(self) -> PurgeTimer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.store.purge()
            except OSError as exc:
                log.warning("recording purge failed: %s", exc)
            self._stop.wait(self.every_s)


def _file_name(call_id: str) -> str:
    """A file name for a call id (which may come from outside): its safe characters and a hash."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", call_id)[:48]
    return f"{safe}-{hashlib.sha256(call_id.encode()).hexdigest()[:12]}"


def _write(path: Path, data: bytes) -> None:
    """Write whole or not at all (a reader never sees half a file)."""
    part = path.with_name(path.name + ".part")
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(part, path)
