"""The shared-server NLU back end against a real ``rasa run --enable-api`` process on loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.calls import Call
from tests.sip import free_port
from voicebot.bank.bank import Bank
from voicebot.config import PROJECT_DIR
from voicebot.nlu.rasa_backend import RasaHttp
from voicebot.nlu.training import NluPaths, train

PATHS = NluPaths(PROJECT_DIR, PROJECT_DIR / "models" / "nlu")


@pytest.fixture(scope="module")
def rasa_server(tmp_path_factory: pytest.TempPathFactory) -> str:
    model, _ = train(PATHS, "en-US")
    port = free_port()
    log = (tmp_path_factory.mktemp("rasa") / "server.log").open("w")
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    rasa = Path(sys.executable).with_name("rasa")
    proc = subprocess.Popen([str(rasa), "run", "--enable-api", "-m", str(model), "-i", "127.0.0.1", "-p", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/status", timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"rasa run exited: {Path(log.name).read_text()[-2000:]}")
            time.sleep(1)
    else:
        pytest.fail("rasa run did not come up in 180 s")
    yield url
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


def test_http_backend_parses_like_the_contract(rasa_server: str) -> None:
    result = RasaHttp({"en-US": rasa_server}, timeout_s=5).parse("send two hundred yuan to my mother", "en-US")
    assert result.intent == "transfer.local" and result.service == "transfer.local"
    assert {"entity": "payee", "value": "mother"} in result.entities
    assert {"entity": "amount", "value": "200"} in result.entities


def test_dialog_over_http_nlu_and_fallback_when_it_stops(rasa_server: str, bank: Bank) -> None:
    parser = RasaHttp({"en-US": rasa_server}, timeout_s=5)
    c = Call(bank, nlu=parser)
    c.say("what's my balance")
    assert c.engine.service.id == "account.balance"
    parser.urls["en-US"] = "http://127.0.0.1:9"  # the server goes away
    c2 = Call(bank, nlu=parser)
    c2.say("what's my balance")
    assert "not available" in c2.said and c2.expecting == "menu"
    c2.keys("111")
    assert c2.expecting == "card_number"
