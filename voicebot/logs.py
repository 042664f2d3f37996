"""Logging set-up: one greppable line per event (key=value), card numbers masked everywhere."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from voicebot.redact import RedactingFilter

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def setup_logging(level: str = "INFO", file: Path | None = None, stderr: bool = False) -> None:
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    handlers: list[logging.Handler] = []
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(file, encoding="utf-8"))
    if stderr or file is None:
        handlers.append(logging.StreamHandler(sys.stderr))
    for h in handlers:
        h.setFormatter(logging.Formatter(FORMAT))
        h.addFilter(RedactingFilter())
        root.addHandler(h)
    root.setLevel(level.upper())
    for noisy in ("alembic", "sqlalchemy"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Python warnings (TensorFlow and Rasa raise dozens about themselves) go to the log, not the
    # terminal; only errors among them are kept.
    logging.captureWarnings(True)
    logging.getLogger("py.warnings").setLevel(logging.ERROR)
