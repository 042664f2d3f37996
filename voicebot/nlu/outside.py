"""Outside evaluation: other people's banking requests, mapped onto our catalogue, never trained on.

``nlu_data/outside/<lang>.tsv`` holds ``text<TAB>label`` rows from a public collection (see its
README for source and licence); ``MAPPING`` says which of our services each label means.
Texts are put into the form our recogniser produces (lower case, no punctuation) before parsing.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from voicebot.nlu.data import Example

#: Outside label -> catalogue service. BANKING77 (PolyAI, CC BY 4.0) for en-US.
MAPPING: dict[str, str] = {
    "lost_or_stolen_card": "card.report_loss",
    "compromised_card": "card.report_loss",
    "card_about_to_expire": "card.replace",
    "exchange_rate": "fx.rates",
    "exchange_via_app": "fx.trade",
}

_PUNCTUATION = re.compile(r"[^\w'\s]+")


def as_spoken(text: str) -> str:
    """'I'm panicking!  I lost my card!' -> "i'm panicking i lost my card" (what ASR gives us)."""
    return " ".join(_PUNCTUATION.sub(" ", text.lower()).split())


def outside_file(root: Path, lang: str) -> Path:
    return root / "nlu_data" / "outside" / f"{lang}.tsv"


def load_outside(path: Path) -> list[Example]:
    """The mapped rows of an outside file as examples whose intent is our service id."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [Example(as_spoken(r["text"]), MAPPING[r["label"]], r["label"]) for r in rows
            if r.get("label") in MAPPING and r.get("text")]


@dataclass
class ServiceScores:
    """Right answers per expected service, for the per-service table."""

    right: Counter = field(default_factory=Counter)
    total: Counter = field(default_factory=Counter)

    def add(self, service: str, ok: bool) -> None:
        self.total[service] += 1
        self.right[service] += ok

    def lines(self) -> list[str]:
        return [f"  {s:<18} {self.right[s]:>3}/{self.total[s]:<3} {self.right[s] / self.total[s]:.0%}"
                for s in sorted(self.total)]
