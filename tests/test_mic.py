"""The microphone channel, driven through a stand-in stream with sounddevice's read/write shape."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.calls import DEMO_CARD, DEMO_PIN
from tests.test_speech import silence, speak
from voicebot.bank.bank import Bank
from voicebot.channels import mic
from voicebot.channels.voice import VoiceSession
from voicebot.config import PROJECT_DIR
from voicebot.dialog.engine import DialogEngine
from voicebot.nlu.keywords import KeywordParser
from voicebot.speech.asr import StreamingRecognizer
from voicebot.speech.recognizers import load_model
from voicebot.speech.tts import PromptCache, Synthesizer


class FakeStream:
    """Plays a prepared caller recording into the channel and records what the bot says."""

    def __init__(self, caller: np.ndarray) -> None:
        self.caller = caller
        self.pos = 0
        self.played: list[np.ndarray] = []

    def read(self, frames: int) -> tuple[np.ndarray, bool]:
        chunk = self.caller[self.pos:self.pos + frames]
        self.pos += frames
        return np.pad(chunk, (0, frames - len(chunk))).reshape(-1, 1), False

    def write(self, data: np.ndarray) -> None:
        self.played.append(data.copy())


@pytest.fixture
def mic_session(bank: Bank, tmp_path: Path) -> VoiceSession:
    model = load_model(PROJECT_DIR / "models", "en-US")
    cache = PromptCache(tmp_path, Synthesizer(sample_rate=mic.MIC_RATE))
    return VoiceSession(DialogEngine(bank, KeywordParser()), StreamingRecognizer(model, mic.MIC_RATE), cache.get,
                        mic.MIC_RATE)


def test_spoken_request_through_the_microphone_channel(mic_session: VoiceSession) -> None:
    caller = np.concatenate([silence(1.0, 16000), speak("i lost my card", 16000), silence(2.0, 16000)])
    stream = FakeStream(caller)
    mic.run(mic_session, stream, max_seconds=len(caller) / 16000)
    assert mic_session.engine.service.id == "card.report_loss"
    heard = np.concatenate(stream.played).reshape(-1)
    assert np.abs(heard).max() > 1000  # the bot spoke through the device


def test_keyboard_keys_act_as_dtmf_and_q_hangs_up(mic_session: VoiceSession) -> None:
    keys = mic.keyboard_keys(iter(["1", "1", "1", f"{DEMO_CARD}#", DEMO_PIN, "q"]))
    stream = FakeStream(silence(30, 16000))
    mic.run(mic_session, stream, keys, max_seconds=30)
    record = mic_session.engine.close()
    assert record.services == ["account.balance"] and mic_session.engine.ended


def test_without_a_sound_device_mic_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sounddevice

    monkeypatch.setattr(sounddevice, "query_devices", lambda: [])
    with pytest.raises(mic.NoSoundDevice, match="no sound device"):
        mic.open_default_stream()
    env = {**os.environ, "VOICEBOT_LOG_FILE": str(tmp_path / "log")}
    result = subprocess.run([sys.executable, "-m", "voicebot", "mic", "--lang", "en-US"], capture_output=True,
                            text=True, env=env, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode != 0 and "sound device" in result.stderr and "Traceback" not in result.stderr


def test_keyboard_reader_ignores_other_characters() -> None:
    keys = mic.keyboard_keys(iter(["1a2 #", "x"]))
    got = [keys.get(timeout=5) for _ in range(6)]
    assert got == ["1", "2", "#", "enter", "enter", "hangup"]
    with pytest.raises(queue.Empty):
        keys.get(timeout=0.1)
