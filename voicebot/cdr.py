"""Call detail records: one JSON line per finished call, card numbers masked, never a PIN."""

from __future__ import annotations

import json
import os
from pathlib import Path

from voicebot.dialog.context import CallRecord
from voicebot.redact import redact


def cdr_line(record: CallRecord) -> str:
    return redact(json.dumps(record.to_json(), ensure_ascii=False))


def append_cdr(path: str | Path, record: CallRecord) -> None:
    """Append one line atomically enough for several writers (O_APPEND, one write call)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    try:
        os.write(fd, (cdr_line(record) + "\n").encode())
    finally:
        os.close(fd)
