"""The command line as users and outside checks drive it: real processes, a real database file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from tests.calls import DEMO_CARD, DEMO_PIN
from voicebot.cli import cli
from voicebot.dialog.actions import EXPECTS


def run(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "voicebot", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=120)


@pytest.fixture
def env(tmp_path: Path, db_url: str) -> dict[str, str]:
    return {**os.environ, "VOICEBOT_DB_URL": db_url, "VOICEBOT_LOG_FILE": str(tmp_path / "voicebot.log")}


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [prefix]
    for name, cmd in group.commands.items():
        out += all_commands(cmd, (*prefix, name)) if isinstance(cmd, click.Group) else [(*prefix, name)]
    return out


@pytest.mark.parametrize("command", all_commands(cli), ids=lambda c: " ".join(c) or "voicebot")
def test_every_command_has_help(command: tuple[str, ...], env: dict[str, str]) -> None:
    result = run([*command, "--help"], env)
    assert result.returncode == 0 and "Usage:" in result.stdout


def test_chat_jsonl_serves_the_demo_customer(env: dict[str, str], tmp_path: Path) -> None:
    script = "\n".join(["dtmf:1", "dtmf:1", "dtmf:1", f"dtmf:{DEMO_CARD}#", f"dtmf:{DEMO_PIN}", "dtmf:2"]) + "\n"
    result = run(["chat", "--lang", "en-US", "--jsonl", "--caller-id", "13800000000",
                  "--cdr", str(tmp_path / "cdr.jsonl")], env, script)
    assert result.returncode == 0, result.stderr
    actions = [json.loads(line) for line in result.stdout.splitlines()]
    assert {a["type"] for a in actions} <= {"say", "collect", "service", "transfer", "hangup"}
    assert all(a["expect"] in EXPECTS for a in actions if a["type"] == "collect")
    assert {"type": "service", "id": "account.balance", "status": "ok", "accounts": 2} in actions
    assert actions[-1] == {"type": "hangup"}
    assert DEMO_PIN not in result.stdout
    [cdr] = [json.loads(line) for line in (tmp_path / "cdr.jsonl").read_text().splitlines()]
    assert cdr["services"] == ["account.balance"] and cdr["outcome"] == "self_service"
    assert cdr["channel"] == "text"
    log = Path(env["VOICEBOT_LOG_FILE"]).read_text()
    assert DEMO_PIN not in log and DEMO_CARD not in log and "service=account.balance" in log


def test_chat_transcript_in_mandarin(env: dict[str, str]) -> None:
    result = run(["chat", "--lang", "zh-CN"], env, "silence\n我要查余额\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("bot: 您好") and "您的卡号" in result.stdout


def test_db_seed_creates_the_demo_bank_on_a_new_database(tmp_path: Path) -> None:
    env = {**os.environ, "VOICEBOT_DB_URL": f"sqlite:///{tmp_path}/new/bank.db",
           "VOICEBOT_LOG_FILE": str(tmp_path / "log")}
    empty = run(["chat", "--jsonl"], env, "")
    assert empty.returncode == 2 and "db seed --demo" in empty.stderr and "Traceback" not in empty.stderr
    assert run(["db", "seed", "--demo"], env).returncode == 0
    result = run(["chat", "--jsonl"], env, f"dtmf:111\ndtmf:{DEMO_CARD}#\ndtmf:{DEMO_PIN}\n")
    assert "12,345.67 yuan" in result.stdout


def test_bad_configuration_is_a_readable_error(tmp_path: Path, env: dict[str, str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[dialog\n")
    result = run(["--config", str(bad), "chat"], env)
    assert result.returncode == 2 and "bad.toml" in result.stderr and "Traceback" not in result.stderr
    unreachable = run(["db", "migrate"], {**env, "VOICEBOT_DB_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert unreachable.returncode == 2 and "cannot use the database" in unreachable.stderr


def test_a_scripted_call_nobody_answers_fails_with_a_readable_error(env: dict[str, str]) -> None:
    """Not exit 0: a test or script calling a worker that is down must see it."""
    from tests.sip import free_port

    result = run(["call", f"sip:95588@127.0.0.1:{free_port()}", "--script", "wait 1; hangup", "--timeout", "3"], env)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "was not answered" in result.stderr and "Traceback" not in result.stderr


def test_users_add_creates_an_operator_who_can_sign_in(env: dict[str, str], db_url: str) -> None:
    from voicebot.bank.db import make_engine
    from voicebot.console.operators import check_password

    made = run(["users", "add", "alice", "--role", "trainer", "--password-stdin"], env, "a long secret\n")
    assert made.returncode == 0, made.stderr
    again = run(["users", "add", "alice", "--role", "agent", "--pools", "010", "--password-stdin"], env,
                "another secret\n")
    short = run(["users", "add", "bob", "--role", "agent", "--pools", "010", "--password-stdin"], env, "short\n")
    role = run(["users", "add", "carol", "--role", "admin", "--password-stdin"], env, "a long secret\n")
    assert again.returncode == short.returncode == role.returncode == 2
    assert "already" in again.stderr and "8 characters" in short.stderr and "Traceback" not in role.stderr
    engine = make_engine(db_url)
    assert check_password(engine, "alice", "a long secret")[0].role == "trainer"
    assert check_password(engine, "alice", "a long secreT") is None and check_password(engine, "nobody", "x") is None
    engine.dispose()


def test_users_are_listed_given_new_passwords_and_removed(env: dict[str, str], db_url: str) -> None:
    """An operator's life after `users add`: `users list`, `users passwd`, `users remove` (the demo one too)."""
    from voicebot.bank.db import make_engine
    from voicebot.console.operators import DEMO_OPERATOR, check_password

    unassigned = run(["users", "add", "dora", "--role", "agent", "--password-stdin"], env, "first secret\n")
    assert unassigned.returncode == 2 and "--pools" in unassigned.stderr  # an agent is given their pools
    made = run(["users", "add", "dora", "--role", "agent", "--pools", "010", "--password-stdin"], env,
               "first secret\n")
    assert made.returncode == 0, made.stderr
    assert run(["users", "pools", "dora", "010,central"], env).returncode == 0
    listed = run(["users", "list", "--json"], env)
    assert listed.returncode == 0, listed.stderr
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert rows["dora"]["role"] == "agent" and "password" not in json.dumps(rows) and "scrypt" not in listed.stdout
    assert rows["dora"]["pools"] == "010,central"
    changed = run(["users", "passwd", "dora", "--password-stdin"], env, "second secret\n")
    assert changed.returncode == 0, changed.stderr
    engine = make_engine(db_url)
    assert check_password(engine, "dora", "first secret") is None and check_password(engine, "dora", "second secret")
    published = run(["users", "passwd", DEMO_OPERATOR[0], "--password-stdin"], env, f"{DEMO_OPERATOR[2]}\n")
    assert published.returncode == 2 and "demo password" in published.stderr
    assert run(["users", "remove", "dora"], env).returncode == 0
    gone = run(["users", "remove", "dora"], env)
    assert gone.returncode == 2 and "no operator called dora" in gone.stderr and "Traceback" not in gone.stderr
    assert check_password(engine, "dora", "second secret") is None
    engine.dispose()


def test_host_roles_refuse_an_incomplete_configuration_readably(tmp_path: Path, env: dict[str, str]) -> None:
    """The multi-host roles (tests/test_multihost.py runs them for real) say what is missing."""
    host = tmp_path / "host.toml"
    host.write_text('[nlu]\nhttp_urls = { "en-US" = "http://10.20.0.31:5005" }\n')
    clean = {k: v for k, v in env.items() if k != "VOICEBOT_NLU_TOKEN"}
    no_token = run(["--config", str(host), "nlu", "serve", "--lang", "en-US"], clean)
    assert no_token.returncode == 2 and "VOICEBOT_NLU_TOKEN" in no_token.stderr
    no_address = run(["--config", str(host), "nlu", "serve", "--lang", "zh-CN"], clean)
    assert no_address.returncode == 2 and "no address for zh-CN" in no_address.stderr
    no_workers = run(["--config", str(host), "front-door"], clean)
    assert no_workers.returncode == 2 and "lists no worker hosts" in no_workers.stderr
    host.write_text(f'[front_door]\nbind = "127.0.0.1"\nworkers = ["127.0.0.1:5070", "127.0.0.1:5071"]\n'
                    f'run_dir = "{tmp_path / "door"}"\n')
    checked = run(["--config", str(host), "front-door", "--check"], clean)
    assert checked.returncode == 0, checked.stderr
    assert "sip:127.0.0.1:5071" in (tmp_path / "door" / "kamailio" / "dispatcher.list").read_text()
