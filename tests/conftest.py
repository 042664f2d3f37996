"""Shared fixtures: a migrated, seeded demo bank per test (copied from one template file)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.calls import Call
from voicebot.bank.bank import Bank
from voicebot.bank.db import make_engine, migrate
from voicebot.bank.demo import seed_demo


@pytest.fixture(scope="session")
def demo_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "demo.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    seed_demo(engine)
    engine.dispose()
    return path


@pytest.fixture
def db_url(tmp_path: Path, demo_db_template: Path) -> str:
    path = tmp_path / "bank.db"
    shutil.copy(demo_db_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def bank(db_url: str) -> Bank:
    engine = make_engine(db_url)
    yield Bank(engine)
    engine.dispose()


@pytest.fixture
def call(bank: Bank):
    """A factory of calls on the demo bank: ``call(lang="zh-CN")``."""

    def make(**kwargs: object) -> Call:
        return Call(bank, **kwargs)

    return make
