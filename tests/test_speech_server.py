"""The cluster's shared Whisper server: one model for every worker's Mandarin callers. Started for
real on loopback; a worker's client hears what a model loaded in process hears, the server asks
for its token and refuses what is not a turn's audio, and an unreachable server is a turn not heard."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.test_mandarin_speech import MANDARIN, _phone
from voicebot.cluster.processes import free_port
from voicebot.config import PROJECT_DIR
from voicebot.service_token import bearer
from voicebot.speech import backends, whisper_files
from voicebot.speech.whisper_client import RemoteWhisper

MODELS = PROJECT_DIR / "models"
TOKEN = "test-token-for-the-speech-server"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    model = whisper_files.model_dir(MODELS)
    if not whisper_files.is_installed(model):
        pytest.fail("Whisper base is not installed: run 'voicebot models fetch --lang zh-CN' (scripts/setup.sh does)")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "voicebot.speech.whisper_server", "--model", str(model),
                             "--port", str(port), "--threads", "2"], cwd=PROJECT_DIR,
                            env={**os.environ, "VOICEBOT_SPEECH_TOKEN": TOKEN},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_up(f"{url}/status", proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(20)


def _wait_up(url: str, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(urllib.request.Request(url, headers=bearer(TOKEN)), timeout=1)
            return
        except OSError:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:] if proc.stderr else ""
            time.sleep(0.3)
    raise AssertionError(f"the speech server did not answer {url} in {timeout:.0f} s")


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers), timeout=30) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_worker_hears_through_the_server_what_a_model_of_its_own_hears(server: str) -> None:
    own = backends.load(MODELS, "zh-CN", "whisper").model
    remote = RemoteWhisper(server, TOKEN)
    for name in ("BAC009S0150W0128", "BAC009S0150W0136"):
        audio = _phone(MANDARIN / f"{name}.wav")
        here, there = own.transcribe(audio, 8000, "zh-CN"), remote.transcribe(audio, 8000, "zh-CN")
        assert there.text and there.text == here.text, (here, there)
        assert there.confidence == pytest.approx(here.confidence, abs=0.01)
    silence = remote.transcribe(np.zeros(8000 * 2, np.int16), 8000, "zh-CN", hint="余额")
    assert silence.text == "" and silence.dropped  # the guards run on the server too


def test_the_server_answers_only_the_token_and_only_a_turns_audio(server: str) -> None:
    audio = np.zeros(1600, np.int16).tobytes()
    assert _post(f"{server}/transcribe?lang=zh-CN&rate=8000", audio, {}) == 401
    assert _post(f"{server}/transcribe?lang=zh-CN&rate=8000", audio, bearer("wrong")) == 401
    assert _post(f"{server}/transcribe?lang=fr-FR&rate=8000", audio, bearer(TOKEN)) == 400
    assert _post(f"{server}/transcribe?lang=zh-CN&rate=11025", audio, bearer(TOKEN)) == 400
    assert _post(f"{server}/transcribe?lang=zh-CN&rate=8000", audio[:-1], bearer(TOKEN)) == 400
    assert _post(f"{server}/transcribe?lang=zh-CN&rate=8000", b"", bearer(TOKEN)) == 400


def test_an_unreachable_server_is_a_turn_not_heard() -> None:
    heard = RemoteWhisper(f"http://127.0.0.1:{free_port()}", TOKEN, timeout_s=2).transcribe(
        np.zeros(8000, np.int16), 8000, "zh-CN")
    assert heard.text == "" and heard.dropped


def test_a_cluster_worker_uses_the_shared_server_instead_of_loading_whisper(monkeypatch: pytest.MonkeyPatch,
                                                                           tmp_path: Path) -> None:
    monkeypatch.setenv("VOICEBOT_SPEECH_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("VOICEBOT_SPEECH_TOKEN", TOKEN)
    backend = backends.load(tmp_path, "zh-CN")  # no model here: nothing is loaded
    assert backend.engine == "whisper" and isinstance(backend.model, RemoteWhisper)
    assert backends.whisper_to_share(tmp_path, {}, ("en-US", "zh-CN")) is None  # not installed here
    assert backends.whisper_to_share(MODELS, {"zh-CN": "vosk"}, ("en-US", "zh-CN")) is None
    assert backends.whisper_to_share(MODELS, {}, ("en-US", "zh-CN")) == whisper_files.model_dir(MODELS)
