"""Shared fixtures: a migrated, seeded demo bank per test (copied from one template file)."""

from __future__ import annotations

import itertools
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.calls import Call
from voicebot.bank.bank import Bank
from voicebot.bank.db import make_engine, migrate
from voicebot.bank.demo import seed_demo
from voicebot.config import join_urls


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


@dataclass(frozen=True)
class NluServers:
    """Shared Rasa servers, one per language, as the cluster runs them (loopback, API behind a token)."""

    urls: dict[str, str]
    token: str

    def env(self) -> dict[str, str]:
        """What a `voicebot` subprocess needs to parse through them instead of loading Rasa itself."""
        return {"VOICEBOT_NLU_BACKEND": "http", "VOICEBOT_NLU_TOKEN": self.token,
                "VOICEBOT_NLU_URLS": join_urls(self.urls)}


@pytest.fixture(scope="session")
def nlu_servers(tmp_path_factory: pytest.TempPathFactory) -> NluServers:
    """Both languages' current models served once for the session (a `voicebot chat` that loads
    Rasa in process takes ~10 s to start; one that parses over HTTP, under one). The embedded
    default keeps its own tests (test_cli, test_nlu_rasa)."""
    from tests.sip import free_port
    from voicebot.cluster.processes import ClusterError, nlu_child, wait_http
    from voicebot.config import PROJECT_DIR
    from voicebot.nlu.parser import NluUnavailable
    from voicebot.nlu.rasa_backend import RasaHttp
    from voicebot.nlu.server import bearer
    from voicebot.nlu.training import NluPaths, train

    paths = NluPaths(PROJECT_DIR, PROJECT_DIR / "models" / "nlu")
    folder, token = tmp_path_factory.mktemp("nlu-servers"), secrets.token_urlsafe(24)
    children, urls = [], {}
    try:
        for lang in ("en-US", "zh-CN"):
            model, _ = train(paths, lang)  # no-op when the model matches the data
            port = free_port()
            child = nlu_child(folder, lang, model, port, token)
            child.start()
            children.append(child)
            urls[lang] = f"http://127.0.0.1:{port}"
        for child, url in zip(children, urls.values(), strict=True):
            wait_http(f"{url}/status", child, timeout=300, headers=bearer(token))
        warm = RasaHttp(urls, timeout_s=30, token=token)  # a server's first parse is its slowest
        for lang in urls:
            warm.parse("hello", lang)
    except (ClusterError, NluUnavailable) as exc:  # none left running behind a failed set-up
        for child in children:
            child.stop()
        logs = "".join(f"\n--- {c.log}:\n{c.log.read_text(errors='replace')[-1500:]}"
                       for c in children if c.log.exists())
        pytest.fail(f"{exc}{logs}")
    yield NluServers(urls, token)
    for child in children:
        child.stop(30)


# Modules in a tier of their own (README, "Tests"): `make check` runs every test outside them.
TIERS = {
    "slow": ("test_nlu_rasa", "test_nlu_http", "test_repair", "test_speech", "test_mandarin_speech", "test_zh_voice",
             "test_voice", "test_voice_settings", "test_mic", "test_inband_dtmf", "test_cli", "test_recorded_prompts"),
    "browser": ("test_console",),
    "cluster": ("test_cluster", "test_multihost", "test_front_door_failover"),
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tier markers: by module, and ``postgres`` for every test that runs on the PostgreSQL server."""
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        for tier, modules in TIERS.items():
            if module in modules:
                item.add_marker(tier)
        if "[postgresql" in item.nodeid or {"postgres", "pg_bank"} & set(getattr(item, "fixturenames", ())):
            item.add_marker("postgres")


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
