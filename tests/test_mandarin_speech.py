"""Mandarin speech in and out: Whisper base hears real read Mandarin over the phone band, invents
nothing on silence or noise, is installed only with its pinned checksum; espeak-ng 1.52 speaks."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.voices import ulaw_roundtrip
from voicebot.config import PROJECT_DIR, ConfigError, load_config
from voicebot.speech import backends, whisper_files
from voicebot.speech.asr import Final, SpeechStarted
from voicebot.speech.audio import read_wav, resample
from voicebot.speech.models import ModelUnavailable
from voicebot.speech.scoring import error_rate, normalise
from voicebot.speech.tts import bundled_espeak_env
from voicebot.speech.whisper import guard, once

MODELS = PROJECT_DIR / "models"
MANDARIN = PROJECT_DIR.parent / "shared" / "data" / "mandarin"
if not MANDARIN.is_dir():
    MANDARIN = Path("/tmp/shared/data/mandarin")


def _whisper() -> backends.SpeechBackend:
    if not whisper_files.is_installed(whisper_files.model_dir(MODELS)):
        pytest.fail("Whisper base is not installed: run 'voicebot models fetch --lang zh-CN' (scripts/setup.sh does)")
    return backends.load(MODELS, "zh-CN", "whisper")


@contextlib.contextmanager
def _answering(text: str) -> Iterator[tuple[object, list[dict]]]:
    """The shared Whisper model, made to answer ``text`` whatever it hears (the guards still run);
    yields it and the keyword arguments of each generate call."""
    model = _whisper().model
    calls: list[dict] = []

    class Answers:
        def generate(self, features, prompts, **kw):
            calls.append(kw)
            ids = model._tok.encode(text, add_special_tokens=False).ids
            return [type("R", (), {"sequences_ids": [ids], "scores": [-0.2], "no_speech_prob": 0.1})()]

    real, model._model = model._model, Answers()
    try:
        yield model, calls
    finally:
        model._model = real


def _stream(rec: object, audio: np.ndarray) -> list[object]:
    padded = np.concatenate([np.zeros(4000, np.int16), audio.astype(np.int16), np.zeros(8000, np.int16)])
    events = []
    for start in range(0, len(padded) - 159, 160):
        events += rec.feed(padded[start:start + 160])
    return events


def _phone(path: Path) -> np.ndarray:
    samples, rate = read_wav(path)
    return ulaw_roundtrip(resample(samples, rate, 8000))


def test_real_mandarin_read_speech_is_recognised_through_the_phone_band() -> None:
    """AISHELL-1 utterances at 8 kHz through G.711, endpointed by the VAD, decoded at the endpoint."""
    rows = list(csv.reader((MANDARIN / "transcripts.tsv").open(encoding="utf-8"), delimiter="\t"))[1:]
    backend = _whisper()
    errors = units = 0.0
    for utt, text in rows[::10]:
        rec = backend.recognizer(8000)
        events = _stream(rec, _phone(MANDARIN / f"{utt}.wav"))
        assert isinstance(events[0], SpeechStarted), "barge-in needs the start of speech"
        heard = "".join(e.text for e in events if isinstance(e, Final))
        errors += error_rate(text, heard, "zh-CN") * len(normalise(text, "zh-CN"))
        units += len(normalise(text, "zh-CN"))
    assert errors / units <= 0.25, f"character error rate {errors / units:.0%} on {len(rows[::10])} utterances"


def test_silence_and_line_noise_give_no_words() -> None:
    """Whisper invents text on noise ("牛肉", "So."): nothing of it may reach the dialog."""
    rng = np.random.default_rng(7)
    hiss = (rng.normal(0, 300, 8000 * 3)).astype(np.int16)  # steady line hiss, 3 s
    bursts = np.concatenate([rng.normal(0, 6000, 4000), np.zeros(8000), rng.normal(0, 6000, 4000)]).astype(np.int16)
    backend = _whisper()
    for audio in (np.zeros(8000 * 3, np.int16), hiss, bursts):
        finals = [e for e in _stream(backend.recognizer(8000), ulaw_roundtrip(audio)) if isinstance(e, Final)]
        assert all(not f.text for f in finals), [f.text for f in finals]


def test_a_sentence_said_again_is_kept_once_and_loops_are_refused() -> None:
    assert once("今天下午两点今天下午两点今天下") == "今天下午两点"
    assert once("查询余额") == "查询余额"
    assert guard("试试试试试试试试", 1.0, 0.1, "zh-CN") == "repetition"
    assert guard("牛肉", 2.0, 0.9, "zh-CN").startswith("no speech")
    assert guard("我想查询余额我想转账我想缴费我想挂失", 0.5, 0.1, "zh-CN") == "longer than the audio"
    assert guard("我想查询余额", 1.5, 0.1, "zh-CN") == ""


def test_words_the_model_is_sure_of_stand_though_it_doubts_anything_was_said() -> None:
    """Whisper's own rule: silence is a high no-speech probability and unsure words together. A
    mobile number read in groups came back whole at 0.66 no-speech on a Xeon, and was dropped."""
    assert guard("13912345678", 3.4, 0.66, "zh-CN", confidence=0.55) == ""
    assert guard("牛肉", 2.0, 0.9, "zh-CN", confidence=0.2).startswith("no speech")
    assert guard("牛肉", 2.0, 0.9, "zh-CN").startswith("no speech")  # no confidence given: doubted


def test_numbers_are_scored_as_values_however_written() -> None:
    assert error_rate("累计推出房源三千套", "累计推出房源3000套", "zh-CN") == 0
    assert error_rate("二零一五年", "2015年", "zh-CN") == 0
    assert error_rate("您的余额是两千五百元", "您的余额是2500元", "zh-CN") == 0
    assert error_rate("查询余额", "", "zh-CN") == 1


def test_a_joined_model_whose_checksum_differs_is_refused(tmp_path: Path) -> None:
    parts = tmp_path / "parts"
    parts.mkdir()
    (parts / "a").write_bytes(b"first half ")
    (parts / "b").write_bytes(b"second half")
    for name in whisper_files.FILES:
        (parts / name).write_text("{}")
    with pytest.raises(ModelUnavailable, match="refused"):
        whisper_files.install(tmp_path / "models", sources=(parts / "a", parts / "b"))
    assert not whisper_files.model_dir(tmp_path / "models").exists()
    good = hashlib.sha256(b"first half second half").hexdigest()
    path, record = whisper_files.install(tmp_path / "models", sources=(parts / "a", parts / "b"), expected_sha256=good)
    assert (path / "model.bin").read_bytes() == b"first half second half" and record["sha256"] == good


def test_mandarin_runs_on_whisper_until_a_vosk_model_is_installed(tmp_path: Path) -> None:
    assert backends.choose(tmp_path, "zh-CN") == "whisper"
    assert backends.choose(tmp_path, "en-US") == "vosk"
    vosk_zh = tmp_path / "vosk" / "zh-CN"
    for name in ("am/final.mdl", "conf/model.conf", "graph/HCLr.fst"):
        (vosk_zh / name).parent.mkdir(parents=True, exist_ok=True)
        (vosk_zh / name).write_text("x")
    assert backends.choose(tmp_path, "zh-CN") == "vosk"
    assert backends.choose(tmp_path, "zh-CN", "whisper") == "whisper"
    with pytest.raises(ValueError):
        backends.choose(tmp_path, "zh-CN", "cloud")


def test_a_bad_speech_engine_in_the_config_is_a_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "config" / "voicebot.toml"
    config.parent.mkdir()
    config.write_text('[speech]\nengines = { "zh-CN" = "cloud" }\n')
    with pytest.raises(ConfigError, match="engines"):
        load_config(config)
    config.write_text('[speech]\nengines = { "zh-CN" = "whisper" }\n')
    assert load_config(config).speech_engines == {"zh-CN": "whisper"}


def test_the_bundled_espeak_reads_mandarin_characters_as_mandarin() -> None:
    """Debian 12's espeak-ng 1.51 switches to English for the tone numbers ('(en)... Tri:')."""
    out = subprocess.run(["espeak-ng", "-v", "cmn", "-x", "-q", "我想查询余额"], capture_output=True, text=True,
                         env=bundled_espeak_env(), check=True).stdout
    assert out.strip() and "(en)" not in out, out


def test_the_prompt_said_back_is_not_taken_for_the_callers_words() -> None:
    """On sound it cannot make out, Whisper may answer with its own prompt ('以下是普通话的句子')."""
    from voicebot.speech import whisper

    with _answering("以下是普通话的句子") as (model, calls):  # the model's answer: its prompt's first words
        heard = model.transcribe(np.full(16000, 800, np.int16), 8000, "zh-CN")
    assert calls and heard.text == "" and heard.dropped == "the prompt said back"
    assert whisper.clean("以下是普通话的句子。", "zh-CN") == "以下是普通话的句子"


def test_transcribe_command_hears_mandarin_on_the_configured_engine(tmp_path: Path) -> None:
    """`voicebot transcribe --lang zh-CN` runs on Whisper where no Vosk model is installed."""
    import json
    import os
    import sys

    from voicebot.speech.audio import write_wav

    utt, text = "BAC009S0150W0136", "首先从居民部门利息保障倍数来看"
    write_wav(tmp_path / "call.wav", _phone(MANDARIN / f"{utt}.wav"), 8000)
    env = {**os.environ, "VOICEBOT_LOG_FILE": str(tmp_path / "log")}
    command = [sys.executable, "-m", "voicebot", "transcribe", "--lang", "zh-CN", str(tmp_path / "call.wav")]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    heard = json.loads(result.stdout)
    assert error_rate(text, heard["text"], "zh-CN") <= 0.3 and 0 < heard["confidence"] <= 1, heard


def test_an_answer_the_step_hinted_at_is_kept() -> None:
    """At a yes/no step the prompt lists the answers: a caller's '是的' is theirs, not the prompt said back."""
    with _answering("不需要了") as (model, _calls):
        heard = model.transcribe(np.full(16000, 800, np.int16), 8000, "zh-CN", hint="是的，不需要了，对。")
    assert heard.text == "不需要了" and not heard.dropped


def test_numbers_are_not_taken_for_loops() -> None:
    """A card number's run of zeros and a number's repeated groups are what the caller said."""
    assert guard("6222020000000001", 4.0, 0.1, "zh-CN") == ""
    assert once("1234 1234 1234") == "1234 1234 1234"
    assert once("138138138") == "138138138"
    assert guard("试试试试试试", 2.0, 0.1, "zh-CN") == "repetition"


def test_a_dropped_result_is_not_written_to_the_log(caplog: pytest.LogCaptureFixture) -> None:
    """Whatever a guard drops may be a PIN said aloud at the PIN step: the log says why, not what."""
    with _answering("135790135790135790135790") as (model, _calls), \
            caplog.at_level("INFO", logger="voicebot.speech"):
        heard = model.transcribe(np.full(8000, 800, np.int16), 8000, "zh-CN")
    assert heard.dropped and heard.text == ""
    assert "dropped" in caplog.text and "1357" not in caplog.text


def test_the_steps_words_said_back_on_silence_are_not_the_callers() -> None:
    """With a step's words in its prompt, Whisper says them back on silence ("余额使用简体中文")."""
    model = _whisper().model
    for hint in ("余额", "转账 余额 挂失"):
        heard = model.transcribe(np.zeros(16000, np.int16), 8000, "zh-CN", hint=hint)
        assert heard.text == "" and heard.dropped, (hint, heard)
