"""Shared fixtures: a migrated, seeded demo bank per test (copied from one template file)."""

from __future__ import annotations

import itertools
import shutil
import tempfile
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


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server for this test run, holding a migrated demo bank as a template database."""
    from tests.pg import TestPostgres
    from tests.sip import free_port

    # not under pytest's temp folder: that is private to root, and the server may run as 'postgres'
    server = TestPostgres(Path(tempfile.mkdtemp(prefix="voicebot-pg-")), free_port()).start()
    server.sql("CREATE DATABASE demo_template")
    engine = make_engine(server.url("demo_template"))
    migrate(engine)
    seed_demo(engine)
    engine.dispose()
    yield server
    server.stop()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The bank's and the reports' tests run on SQLite and on PostgreSQL; everything else on SQLite."""
    if "db_url" in metafunc.fixturenames and metafunc.module.__name__.endswith(("test_bank", "test_reports")):
        metafunc.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)


_pg_databases = itertools.count()


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path, demo_db_template: Path) -> str:
    if getattr(request, "param", "sqlite") == "postgresql":
        server = request.getfixturevalue("postgres")
        name = f"bank_{next(_pg_databases)}"
        server.sql(f"CREATE DATABASE {name} TEMPLATE demo_template")
        return server.url(name)
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
