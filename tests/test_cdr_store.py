"""CDRs in the database as well as the file (issue 20): every call stored once, a database that
was unreachable catches up from the file, and `voicebot cdr load` does the same by hand."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from voicebot.bank.db import make_engine
from voicebot.bank.schema import Cdr
from voicebot.cdr import CdrSink, load_file
from voicebot.dialog.context import CallRecord

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture
def db(db_url: str):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def record(n: int, **extra) -> CallRecord:
    rec = CallRecord(f"call-{n}", "13800000000", "en-US", "010", channel="sip", outcome="self_service",
                     services=["account.balance"], **extra)
    rec.ended_at = rec.started_at
    return rec


def stored(db) -> list[dict]:
    with db.connect() as conn:
        return [json.loads(b) for b in conn.execute(select(Cdr.body).order_by(Cdr.id)).scalars()]


def test_each_call_goes_to_the_file_and_once_to_the_database(db, tmp_path: Path) -> None:
    sink = CdrSink(tmp_path / "cdr.jsonl", db)
    for n in range(3):
        sink.write(record(n, transfer_reason="consult" if n == 2 else None))
    sink.close()
    assert len((tmp_path / "cdr.jsonl").read_text().splitlines()) == 3
    rows = stored(db)
    assert [r["call_id"] for r in rows] == ["call-0", "call-1", "call-2"]
    with db.connect() as conn:
        assert conn.execute(select(Cdr.transfer_reason).where(Cdr.call_id == "call-2")).scalar() == "consult"
    assert load_file(db, tmp_path / "cdr.jsonl") == 0  # loading again stores nothing twice


def test_a_database_that_was_down_catches_up_from_the_file(db, tmp_path: Path) -> None:
    path = tmp_path / "cdr.jsonl"
    down = CdrSink(path, make_engine(f"sqlite:///{tmp_path / 'missing' / 'no.db'}"))  # cannot even be opened
    down.write(record(1))
    down.write(record(2))
    down.close()
    assert len(path.read_text().splitlines()) == 2 and stored(db) == []
    back = CdrSink(path, db)  # the next process (or the same one, once the database answers)
    back.write(record(3))
    back.close()
    assert sorted(r["call_id"] for r in stored(db)) == ["call-1", "call-2", "call-3"]


def test_voicebot_cdr_load_loads_what_is_missing(db, tmp_path: Path) -> None:
    path = tmp_path / "cdr.jsonl"
    lines = [json.dumps(record(n).to_json()) for n in range(4)]
    path.write_text("\n".join([*lines, "not json"]) + "\n")
    load_file(db, path.with_name("none.jsonl"))
    from voicebot.cdr import store_lines

    store_lines(db, lines[:1])
    env = {"VOICEBOT_DB_URL": str(db.url), "VOICEBOT_LOG_FILE": str(tmp_path / "log.txt"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "voicebot", "cdr", "load", "--cdr", str(path)], env=env,
                            capture_output=True, text=True, cwd=PROJECT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "3 CDR lines loaded" in result.stdout
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Cdr)).scalar() == 4
