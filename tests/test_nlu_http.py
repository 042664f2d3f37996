"""The shared-server NLU back end against a real shared NLU server (``voicebot.nlu.server``) on loopback."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from tests.calls import Call
from tests.sip import free_port
from voicebot.bank.bank import Bank
from voicebot.cluster.processes import ClusterError, nlu_child, wait_http
from voicebot.config import PROJECT_DIR
from voicebot.nlu.parser import NluUnavailable
from voicebot.nlu.rasa_backend import RasaHttp
from voicebot.nlu.server import bearer
from voicebot.nlu.training import NluPaths, train

PATHS = NluPaths(PROJECT_DIR, PROJECT_DIR / "models" / "nlu")


# Begins with "-" as one random token in 64 does: before, Rasa took it for an option and exited
# (seen as a cluster whose shared NLU server would not start, now and then).
TOKEN = "-test-token-5f2c"


@pytest.fixture(scope="module")
def rasa_server(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A shared NLU server started as the cluster starts it (loopback, API behind a token)."""
    model, _ = train(PATHS, "en-US")
    port = free_port()
    child = nlu_child(tmp_path_factory.mktemp("rasa"), "en-US", model, port, TOKEN)
    child.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/status", child, timeout=180, headers=bearer(TOKEN))
    except ClusterError as exc:
        child.stop()
        pytest.fail(f"{exc}: {child.log.read_text()[-2000:]}")
    yield url
    child.stop(30)


def test_http_backend_parses_like_the_contract(rasa_server: str) -> None:
    result = RasaHttp({"en-US": rasa_server}, timeout_s=5, token=TOKEN).parse("send two hundred yuan to my mother",
                                                                             "en-US")
    assert result.intent == "transfer.local" and result.service == "transfer.local"
    assert {"entity": "payee", "value": "mother"} in result.entities
    assert {"entity": "amount", "value": "200"} in result.entities


def test_dialog_over_http_nlu_and_fallback_when_it_stops(rasa_server: str, bank: Bank) -> None:
    parser = RasaHttp({"en-US": rasa_server}, timeout_s=5, token=TOKEN)
    c = Call(bank, nlu=parser)
    c.say("what's my balance")
    assert c.engine.service.id == "account.balance"
    parser.urls["en-US"] = "http://127.0.0.1:9"  # the server goes away
    c2 = Call(bank, nlu=parser)
    c2.say("what's my balance")
    assert "not available" in c2.said and c2.expecting == "menu"
    c2.keys("111")
    assert c2.expecting == "card_number"


def test_the_nlu_api_answers_nobody_without_the_token(rasa_server: str) -> None:
    """Before: `rasa run --enable-api` without a token let anyone local parse, or swap the model."""
    with pytest.raises(NluUnavailable):
        RasaHttp({"en-US": rasa_server}, timeout_s=5).parse("what's my balance", "en-US")
    for method, path in (("PUT", "/model"), ("GET", "/status"), ("POST", "/model/parse")):
        request = urllib.request.Request(f"{rasa_server}{path}", method=method, data=b"{}" if method != "GET" else None)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 401, (method, path)
    # the token in a URL (where proxies and logs keep it) is not accepted either
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{rasa_server}/status?token={TOKEN}", timeout=5)
    assert refused.value.code == 401


def test_the_token_is_on_no_command_line_and_nothing_changes_the_model(rasa_server: str) -> None:
    """Before: the token was an argument of `rasa run` (any local user could read it in `ps`), and
    with it `PUT /model` or `POST /model/train` replaced the model."""
    import subprocess

    listing = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert "voicebot.nlu.server" in listing and TOKEN not in listing
    for method, path in (("PUT", "/model"), ("POST", "/model/train"), ("DELETE", "/model")):
        request = urllib.request.Request(f"{rasa_server}{path}", method=method, data=b"{}", headers=bearer(TOKEN))
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code in (404, 405), (method, path)
