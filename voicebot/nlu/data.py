"""Reading Rasa 3.1 YAML training data into plain (text, intent) examples."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

_ANNOTATION = re.compile(r"\[([^\]]+)\]\([^)]+\)")


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    source: str


def plain(text: str) -> str:
    """'buy [dollars](currency)' -> 'buy dollars'."""
    return _ANNOTATION.sub(r"\1", text)


def load_examples(*paths: Path) -> list[Example]:
    """All intent examples in the given YAML files or folders (recursively), in file order."""
    files: list[Path] = []
    for path in paths:
        files += sorted(path.rglob("*.yml")) if path.is_dir() else [path]
    out = []
    for file in files:
        doc = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        for block in doc.get("nlu", []):
            if "intent" not in block:
                continue
            for line in str(block.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    out.append(Example(plain(line[2:].strip()), block["intent"], file.name))
    return out
