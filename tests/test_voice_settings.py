"""``[voice]``: one configuration section that SIP, browser and microphone calls all follow."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from voicebot.bank.bank import Bank
from voicebot.channels.call import CallKit
from voicebot.channels.call_events import BotActed, CallEvent
from voicebot.config import PROJECT_DIR, ConfigError, load_config
from voicebot.dialog.actions import Say


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config" / "voicebot.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(f'base_dir = "{PROJECT_DIR}"\n[nlu]\nbackend = "keywords"\n{text}', encoding="utf-8")
    return path


def kits(cfg_path: Path, bank: Bank) -> dict[str, CallKit]:
    """Each channel's calls, built by the same functions `voicebot serve`, `console` and `mic` use."""
    from voicebot.cli import mic_kit
    from voicebot.cli_console import phone_parts
    from voicebot.config import make_parser
    from voicebot.telephony.serve import services_for

    cfg = load_config(cfg_path)
    return {"sip": services_for(cfg, bank, make_parser(cfg)).kit,
            "browser": phone_parts(cfg, bank, lambda record: None).kit,
            "mic": mic_kit(cfg, bank, "en-US")}


def seconds_to_no_input(kit: CallKit) -> float:
    """A quiet caller: how long after the greeting the bot speaks again (its prompts take no time here)."""
    kit = replace(kit, voice=lambda text, lang: np.zeros(0, np.int16), parts=None, renderer=None)
    said: list[int] = []  # the frame at which each sentence was said
    frames = [0]

    def heard(event: CallEvent) -> None:
        if isinstance(event, BotActed) and isinstance(event.action, Say):
            said.append(frames[0])

    session = kit.call("en-US", subscribers=[heard])
    greeting = len(said)
    quiet = np.zeros(kit.rate // 50, np.int16)
    while len(said) == greeting and frames[0] < 50 * 20:
        frames[0] += 1
        session.step(quiet)
    session.close()
    return said[-1] / 50


def test_one_value_changed_in_voice_reaches_every_channel(tmp_path: Path, bank: Bank) -> None:
    built = kits(config(tmp_path, "[voice]\nno_input_s = 2.5\nendpoint_ms = 450\n"), bank)
    assert set(built) == {"sip", "browser", "mic"}
    for channel, kit in built.items():
        assert kit.settings.no_input_s == 2.5, channel
        session = kit.call("en-US")
        assert session.recognizer is not None and session.recognizer.vad.endpoint_ms == 450, channel
        session.close()
        assert seconds_to_no_input(kit) == pytest.approx(2.5, abs=0.05), channel
    defaults = kits(config(tmp_path, ""), bank)
    for channel, kit in defaults.items():
        assert seconds_to_no_input(kit) == pytest.approx(6.0, abs=0.05), channel


def test_a_channel_overrides_only_what_it_names(tmp_path: Path, bank: Bank) -> None:
    built = kits(config(tmp_path, "[voice]\nno_input_s = 3.0\n[voice.sip]\nendpoint_ms = 900\n"), bank)
    assert {c: (k.settings.no_input_s, k.settings.endpoint_ms) for c, k in built.items()} == {
        "sip": (3.0, 900), "browser": (3.0, 700), "mic": (3.0, 700)}


def test_the_older_spellings_still_work(tmp_path: Path) -> None:
    cfg = load_config(config(tmp_path, '[sip]\nno_input_s = 8.0\n[speech]\nengines = { "zh-CN" = "whisper" }\n'))
    assert cfg.voice("sip").no_input_s == 8.0 and cfg.voice("browser").no_input_s == 6.0
    assert cfg.voice("mic").engine("zh-CN") == "whisper" and cfg.speech_engines == {"zh-CN": "whisper"}


@pytest.mark.parametrize("text, named", [
    ("[voice]\nno_input_secs = 3\n", "no_input_secs"),
    ("[voice]\nendpoint_ms = -5\n", "endpoint_ms"),
    ("[voice]\nbarge_in = \"sometimes\"\n", "barge_in"),
    ("[voice.browser]\nno_input_s = \"long\"\n", "no_input_s"),
    ('[voice]\nengines = { "fr-FR" = "vosk" }\n', "engines"),
])
def test_a_bad_voice_value_is_a_clear_error_at_start(tmp_path: Path, text: str, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        load_config(config(tmp_path, text))
