"""Call recordings: caller and bot on their own channels, paused while card data is collected,
sealed at rest, listed, exported and purged (the SIP and browser tests record real calls)."""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from tests.calls import DEMO_CARD, DEMO_PIN
from voicebot.bank.bank import Bank
from voicebot.channels.call import CallKit
from voicebot.channels.voice import VoiceSession
from voicebot.channels.voice_settings import VoiceSettings
from voicebot.dialog.context import DialogSettings
from voicebot.nlu.keywords import KeywordParser
from voicebot.recording.recordings import Recordings
from voicebot.recording.sealing import RecordingKey, SealingError
from voicebot.recording.settings import RecordingSettings
from voicebot.recording.store import RecordingStore

RATE, FRAME = 8000, 160


def bot_voice(text: str, lang: str) -> np.ndarray:
    """The bot's stand-in voice: a 440 Hz tone, 20 ms a character."""
    t = np.arange(int(0.02 * len(text) * RATE)) / RATE
    return (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)


def caller_sound(seconds: float) -> list[np.ndarray]:
    """The caller's stand-in voice: 1 kHz, in 20 ms frames."""
    t = np.arange(int(seconds * RATE)) / RATE
    pcm = (np.sin(2 * np.pi * 1000 * t) * 6000).astype(np.int16)
    return [pcm[i:i + FRAME] for i in range(0, len(pcm) - FRAME + 1, FRAME)]


def recorded_kit(bank: Bank, folder: Path, **settings: object) -> tuple[CallKit, Recordings]:
    recordings = Recordings(RecordingSettings(dir=str(folder / "rec"), key_file=str(folder / "rec.key"),
                                              **settings), lambda p: Path(p))
    kit = CallKit("browser", RATE, bank, lambda lang: KeywordParser(), None, bot_voice, VoiceSettings(),
                  DialogSettings(), "010", starts=[recordings.for_channel("browser", RATE)])
    return kit, recordings


def talk(session: VoiceSession, seconds: float) -> None:
    for frame in caller_sound(seconds):
        session.step(frame)


def balance_call(session: VoiceSession) -> None:
    """Asks for the balance on the keypad, talking over every step; card and PIN keyed."""
    talk(session, 1.0)
    for key in "111":
        session.key(key)
        talk(session, 0.4)
    talk(session, 1.0)  # the caller talks at the card prompt too
    for key in DEMO_CARD + "#":
        session.key(key)
    talk(session, 1.0)
    for key in DEMO_PIN + "#":
        session.key(key)
    talk(session, 3.0)  # the balance is read
    session.hang_up()
    for _ in range(200):
        session.step(np.zeros(FRAME, np.int16))
    session.close()


def test_a_call_is_recorded_with_its_card_steps_silent(bank: Bank, tmp_path: Path) -> None:
    kit, recordings = recorded_kit(bank, tmp_path)
    session = kit.call("en-US")
    balance_call(session)
    [info] = list(recordings.store.infos())
    assert info.call_id == session.call_id and info.services == ["account.balance"]
    assert info.channel == "browser" and info.language == "en-US" and info.region == "010"
    [(start, end)] = info.paused_spans
    audio = recordings.store.audio(info)
    assert audio.shape[1] == 3 and abs(len(audio) / RATE - info.duration_s) < 0.05
    caller, bot = audio[:, 0], audio[:, 1]
    span = slice(int(start * RATE), int(end * RATE))
    assert not audio[span].any()  # every channel is silent while card and PIN are collected
    assert end - start >= 2.0  # the caller talked 1 s at each of the two steps
    assert np.abs(caller[: int(start * RATE)]).max() > 3000  # the request before it is heard
    assert np.abs(caller[int(end * RATE):]).max() > 3000  # and the caller after it
    assert np.abs(bot[: int(start * RATE)]).max() > 3000 and np.abs(bot[int(end * RATE):]).max() > 3000
    # its transcript: timed, the card steps left out, nothing of the card or PIN
    lines = recordings.store.transcript(info)
    assert lines[0]["who"] == "bot" and "95588" in lines[0]["text"]
    assert {"t": start, "who": "call", "text": "recording paused: card data"} in lines
    tail = RecordingSettings.tail_ms / 1000  # the pause outlasts the steps by this much
    assert not [line for line in lines if start < line["t"] < end - tail - 0.01]
    assert any(line["text"] == "service account.balance: ok" and line["t"] >= end - tail - 0.01 for line in lines)
    text = json.dumps(lines)
    assert DEMO_CARD[-8:] not in text and DEMO_PIN not in text and text.count("\"keys 1\"") == 3


def test_recordings_are_sealed_and_open_only_with_their_key_and_call(bank: Bank, tmp_path: Path) -> None:
    kit, recordings = recorded_kit(bank, tmp_path)
    session = kit.call("en-US")
    balance_call(session)
    [info] = list(recordings.store.infos())
    day = recordings.store.root / info.started.date().isoformat()
    sealed = (day / info.file).read_bytes()
    assert b"fLaC" not in sealed and oct((day / info.file).stat().st_mode)[-3:] == "600"
    assert oct((tmp_path / "rec.key").stat().st_mode)[-3:] == "600"
    assert DEMO_CARD not in (day / info.file.replace(".flac.sealed", ".json")).read_text()
    with pytest.raises(SealingError, match="configured key"):
        RecordingKey(os.urandom(32)).open(sealed, info.call_id)
    with pytest.raises(SealingError, match="another call"):
        recordings.store.key.open(sealed, "someone-else")
    tampered = bytearray(sealed)
    tampered[-5] ^= 1
    with pytest.raises(SealingError):
        recordings.store.key.open(bytes(tampered), info.call_id)


def test_a_region_switched_off_is_not_recorded(bank: Bank, tmp_path: Path) -> None:
    kit, recordings = recorded_kit(bank, tmp_path, off_regions=("010",))
    balance_call(kit.call("en-US"))
    balance_call(kit.call("en-US", region="021"))
    assert [info.region for info in recordings.store.infos()] == ["021"]


def test_purge_removes_recordings_older_than_keep_days(bank: Bank, tmp_path: Path) -> None:
    kit, recordings = recorded_kit(bank, tmp_path, keep_days=30)
    balance_call(kit.call("en-US"))
    store: RecordingStore = recordings.store
    assert store.purge() == 0
    assert store.purge(datetime.now().astimezone() + timedelta(days=31)) == 1
    assert list(store.infos()) == [] and not any(store.root.iterdir())


def test_the_cli_lists_exports_and_purges(bank: Bank, tmp_path: Path, db_url: str) -> None:
    from click.testing import CliRunner

    from voicebot.cli import cli

    kit, recordings = recorded_kit(bank, tmp_path)
    session = kit.call("en-US")
    balance_call(session)
    config = tmp_path / "voicebot.toml"
    config.write_text(f'[database]\nurl = "{db_url}"\n[recording]\ndir = "{tmp_path / "rec"}"\n'
                      f'key_file = "{tmp_path / "rec.key"}"\nkeep_days = 7\n')
    runner = CliRunner()
    listed = runner.invoke(cli, ["--config", str(config), "recordings", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    row = json.loads(listed.output.strip())
    assert row["call_id"] == session.call_id and row["services"] == ["account.balance"]
    assert len(row["paused_spans"]) == 1 and set(row) >= {"started_at", "duration_s", "language", "region"}
    wav = tmp_path / "out.wav"
    exported = runner.invoke(cli, ["--config", str(config), "recordings", "export", session.call_id, "-o", str(wav),
                                   "--keep-channels"])
    assert exported.exit_code == 0, exported.output
    import soundfile as sf

    samples, rate = sf.read(wav, dtype="int16")
    assert rate == RATE and samples.shape[1] == 3
    missing = runner.invoke(cli, ["--config", str(config), "recordings", "export", "nope", "-o", str(wav)])
    assert missing.exit_code == 2 and "no recording of call nope" in missing.output
    dashed = kit.call("en-US", call_id="-4C4QGOrk.ED6rxJml8LsQ")  # a Call-ID the caller's phone chose
    balance_call(dashed)
    dashed.hang_up()
    for words in ([dashed.call_id, "-o", str(wav)], ["-o", str(wav), dashed.call_id, "--keep-channels"],
                  ["-o", str(wav), "--", dashed.call_id]):
        exported = runner.invoke(cli, ["--config", str(config), "recordings", "export", *words])
        assert exported.exit_code == 0, exported.output
    unknown = runner.invoke(cli, ["--config", str(config), "recordings", "export", "-o", str(wav), "-x"])
    assert unknown.exit_code == 2 and "no recording of call -x" in unknown.output
    (tmp_path / "rec.key").write_text(os.urandom(32).hex())
    wrong = runner.invoke(cli, ["--config", str(config), "recordings", "export", session.call_id, "-o", str(wav)])
    assert wrong.exit_code == 2 and "configured key" in wrong.output and "Traceback" not in wrong.output
    from voicebot.recording.audit import audit_log

    entries = audit_log(bank.engine)  # the exports that happened (not the ones refused)
    assert sorted(entry["call_id"] for entry in entries) == sorted([session.call_id, *[dashed.call_id] * 3])
    assert all(entry["action"] == "export" and entry["operator"].startswith("cli:") for entry in entries)
    purged = runner.invoke(cli, ["--config", str(config), "recordings", "purge"])
    assert purged.exit_code == 0 and purged.output.startswith("0 recording(s)")


def test_a_call_id_with_a_long_digit_run_is_found_as_the_cdr_names_it(bank: Bank, tmp_path: Path) -> None:
    """CDRs and logs mask digit runs in every text, the call id too (a SIP Call-ID may be all
    digits): the recording is indexed under the same masked id, so quality review finds it, and
    its file names carry no such run either."""
    from voicebot.cdr import cdr_line, store_lines
    from voicebot.console.qa import find_calls

    kit, recordings = recorded_kit(bank, tmp_path)
    session = kit.call("en-US", call_id="ebe5f35f54aa438996563024d6cc91c1")
    balance_call(session)
    line = cdr_line(session.ctx.record)
    named = json.loads(line)["call_id"]
    assert named != session.call_id  # the CDR masks the run of digits
    store_lines(bank.engine, [line])
    [info] = list(recordings.store.infos())
    assert info.call_id == named and recordings.store.find(named) == info
    assert recordings.store.audio(info).any() and recordings.store.transcript(info)
    [call] = find_calls(bank.engine, recordings.store, info.started.date())
    assert call["call_id"] == named and call["recorded"] and call["duration_s"] == info.duration_s
    assert not any("438996563024" in p.name for p in recordings.store.root.rglob("*"))
