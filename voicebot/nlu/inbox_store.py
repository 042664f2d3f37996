"""The trainer's inbox in the database, and labelling its turns into ``nlu_data/<lang>/inbox.yml``.

Workers store each call's unsure turns (``dialog/inbox.py``) when the call ends; turns older
than the retention are deleted as new ones arrive. A trainer accepts the NLU's guess, picks
another intent, marks the turn out of scope (an ``out_of_scope`` example) or dismisses it.
Labelled examples go into a file of their own, never into the held-out set, and the data is
validated on every save: a label that would add an error (a sentence already taught as
another intent, or one of the held-out sentences) is refused and the file left as it was.
``voicebot nlu review`` and the console's inbox page both use these functions.
"""

from __future__ import annotations

import fcntl
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from voicebot.bank.schema import InboxTurn
from voicebot.catalogue import catalogue
from voicebot.nlu.data import load_examples
from voicebot.nlu.validation import expected_intents, validate

if TYPE_CHECKING:
    from voicebot.nlu.training import NluPaths

INBOX_FILE = "inbox.yml"
ACTIONS = ("accept", "label", "out_of_scope", "dismiss")
_MASKS = re.compile(r"<digits>|<payee>|\*+")
_HEADER = ('version: "3.1"\n# Labelled by trainers from real caller turns (voicebot nlu review, the console\'s '
           'inbox).\n# Masked parts were dropped. Written by voicebot/nlu/inbox_store.py; edit freely.\nnlu:\n')


class LabelError(ValueError):
    """A label that cannot be saved; the message says why."""


@dataclass(frozen=True)
class Labelled:
    status: str
    intent: str | None
    file: Path | None


def save_turns(db: Engine, call_id: str, turns: list[dict[str, Any]], keep_days: int) -> None:
    now = datetime.now()
    with Session(db) as s, s.begin():
        s.execute(delete(InboxTurn).where(InboxTurn.created_at < now - timedelta(days=keep_days)))
        for turn in turns:
            s.add(InboxTurn(created_at=now, call_id=call_id[:128], lang=turn["lang"], text=turn["text"],
                            step=turn.get("step"), kind=turn["kind"], ranking=json.dumps(turn["ranking"]),
                            next_move=turn.get("then"), status="new"))


def pending(db: Engine, lang: str, limit: int = 50) -> list[dict[str, Any]]:
    """Unlabelled turns of ``lang``, newest first."""
    with Session(db) as s:
        rows = s.execute(select(InboxTurn).where(InboxTurn.lang == lang, InboxTurn.status == "new")
                         .order_by(InboxTurn.id.desc()).limit(limit)).scalars().all()
        return [_as_dict(r) for r in rows]


def labels() -> list[str]:
    """The intents a trainer may choose: every catalogue id, family and conversation intent."""
    return sorted(expected_intents(catalogue()))


def label(db: Engine, turn_id: int, action: str, paths: NluPaths, *, intent: str | None = None,
          who: str = "trainer") -> Labelled:
    """Apply a trainer's decision to one turn; the example is written and validated first."""
    if action not in ACTIONS:
        raise LabelError(f"the action is one of {', '.join(ACTIONS)}")
    with _one_labeller(paths), Session(db) as s, s.begin():
        row = s.get(InboxTurn, turn_id)
        if row is None or row.status != "new":
            raise LabelError(f"turn {turn_id} is not in the inbox (labelled already, or gone)")
        if action == "accept":
            intent = json.loads(row.ranking)[0][0]
        elif action == "out_of_scope":
            intent = "out_of_scope"
        elif action == "dismiss":
            intent = None
        if action != "dismiss":
            if intent not in labels():
                raise LabelError(f"{intent!r} is not an intent of the catalogue")
            file = add_example(paths, row.lang, row.text, intent)
        else:
            file = None
        row.status = {"dismiss": "dismissed", "out_of_scope": "out_of_scope"}.get(action, "labelled")
        row.label, row.labelled_by, row.labelled_at = intent, who, datetime.now()
        return Labelled(row.status, intent, file)


_LABELLING = threading.Lock()


@contextmanager
def _one_labeller(paths: NluPaths) -> Iterator[None]:
    """One label at a time (threads and processes alike): each reads, changes and may restore
    ``inbox.yml``, so two at once would lose or undo each other's example."""
    lock_file = paths.models_dir / ".inbox.lock"  # beside the models: a folder setup makes, never in git
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with _LABELLING, open(lock_file, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)


def add_example(paths: NluPaths, lang: str, text: str, intent: str) -> Path:
    """Write ``text`` as an example of ``intent`` into ``nlu_data/<lang>/inbox.yml``, keeping the data valid."""
    example = " ".join(_MASKS.sub(" ", text).split())
    if not example:
        raise LabelError("nothing is left of this turn once its masked parts are dropped")
    data_dir = paths.data(lang)
    path = data_dir / INBOX_FILE
    before = path.read_text(encoding="utf-8") if path.exists() else None
    heldout = load_examples(paths.heldout(lang))
    errors_before = _errors(data_dir, heldout)
    blocks = _read(path)
    if any(ex.text.lower() == example.lower() and ex.intent == intent for ex in load_examples(data_dir)):
        return path  # taught already
    blocks.setdefault(intent, []).append(example)
    path.write_text(_HEADER + "".join(f"- intent: {name}\n  examples: |\n" + "".join(f"    - {t}\n" for t in texts)
                                      for name, texts in sorted(blocks.items())), encoding="utf-8")
    new = _errors(data_dir, heldout) - errors_before
    if new:
        if before is None:
            path.unlink()
        else:
            path.write_text(before, encoding="utf-8")
        raise LabelError("not saved: " + "; ".join(sorted(new)))
    return path


def _errors(data_dir: Path, heldout: list[Any]) -> set[str]:
    return {p.message for p in validate(load_examples(data_dir), heldout, catalogue()) if p.severity == "error"}


def _read(path: Path) -> dict[str, list[str]]:
    blocks: dict[str, list[str]] = {}
    if path.exists():
        for ex in load_examples(path):
            blocks.setdefault(ex.intent, []).append(ex.text)
    return blocks


def _as_dict(row: InboxTurn) -> dict[str, Any]:
    return {"id": row.id, "at": row.created_at.isoformat(timespec="seconds"), "lang": row.lang, "text": row.text,
            "step": row.step, "kind": row.kind, "ranking": json.loads(row.ranking), "then": row.next_move}
