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
from typing import TYPE_CHECKING

from voicebot.catalogue import Catalogue
from voicebot.dialog.context import DialogSettings
from voicebot.nlu.data import Example

if TYPE_CHECKING:
    from voicebot.nlu.parser import Parser

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


NOT_A_SERVICE = "(no service)"  # the row of turns that ask for none: greetings, answers, out of scope


@dataclass
class OutsideScores:
    """Per expected service: how often the first guess was right, and what the dialog would do.

    ``acted`` the bot starts the right service at once; ``offered`` it asks about it ("did you
    mean", two guesses, or the right family's menu); ``handed`` it hands the caller to an agent;
    ``wrong`` it starts another service (the figure to drive down); ``missed`` it asks again.
    Turns that ask for no service are ``kept`` out when nothing is started, else ``wrong``.
    """

    counts: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, service: str, outcome: str, first_right: bool) -> None:
        c = self.counts.setdefault(service, Counter())
        c["total"] += 1
        c[outcome] += 1
        c["first"] += first_right

    def totals(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for c in self.counts.values():
            out.update(c)
        return out

    def lines(self) -> list[str]:
        rows = [(s, self.counts[s]) for s in sorted(self.counts)] + [("all", self.totals())]
        out = [f"  {'service':<18} {'n':>4} {'first guess':>12} {'acted':>7} {'offered':>8} {'handed over':>12} "
               f"{'wrong':>6} {'kept out':>9}"]
        for name, c in rows:
            n = c["total"]
            out.append(f"  {name:<18} {n:>4} {c['first'] / n:>12.1%} {c['acted'] / n:>7.1%} {c['offered'] / n:>8.1%} "
                       f"{c['handed'] / n:>12.1%} {c['wrong'] / n:>6.1%} {c['kept'] / n:>9.1%}")
        return out

    def summary(self) -> str:
        """One line: what the dialog does with turns that ask for a service, and with those that ask for none."""
        asked = Counter[str]()
        for name, c in self.counts.items():
            if name != NOT_A_SERVICE:
                asked.update(c)
        line = ""
        if n := asked["total"]:
            line = (f"  {n} requests for a service: acted right {asked['acted'] / n:.1%}, wrong action "
                    f"{asked['wrong'] / n:.1%}, asked {asked['offered'] / n:.1%}, handed over "
                    f"{asked['handed'] / n:.1%}, asked again {asked['missed'] / n:.1%}")
        if none := self.counts.get(NOT_A_SERVICE):
            line += (f"\n  {none['total']} turns asking for no service: kept out {none['kept'] / none['total']:.1%}, "
                     f"wrong action {none['wrong'] / none['total']:.1%}")
        return line


def score(parser: Parser, lang: str, examples: list[Example], cat: Catalogue,
          settings: DialogSettings) -> OutsideScores:
    """Parse each example and classify what the dialog's repair rules would do with it."""
    from voicebot.dialog.repair import decide

    scores = OutsideScores()
    for ex in examples:
        result = parser.parse(ex.text, lang)
        first = result.ranking[0][0] if result.ranking else result.intent
        decision = decide(result, cat, settings)
        ids = [s.id for s in decision.services]
        service = cat.by_id.get(ex.intent)
        if decision.action == "start":
            outcome = "acted" if ids == [ex.intent] else "handed" if service is not None and ids == ["agent"] \
                else "wrong"
        elif service is None:
            outcome = "kept"
        elif ex.intent in ids or (decision.group is not None and any(
                p[:-1] == decision.group.path for p in service.paths)):
            outcome = "offered"
        else:
            outcome = "missed"
        scores.add(ex.intent if service is not None else NOT_A_SERVICE, outcome, first == ex.intent)
    return scores
