"""Mandarin callers over real SIP on loopback: `voicebot serve` hears zh-CN on Whisper base.

One worker serves the module. A caller asks for Mandarin (Accept-Language: zh-CN). Real read
Mandarin (AISHELL-1) is heard over the line as read; a spoken request, in a voice that is not the
bot's (tests/mandarin_voice.py), reaches its service, and card and PIN are keyed as on a phone.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest

from tests.calls import DEMO_CARD, DEMO_PIN
from tests.sip import free_port, place_call, start_worker, write_config
from tests.test_mandarin_speech import MANDARIN, _phone
from voicebot.speech.scoring import error_rate
from voicebot.telephony.softphone import save_wav

pytestmark = pytest.mark.sip


@pytest.fixture(scope="module")
def zh_lab(tmp_path_factory: pytest.TempPathFactory, demo_db_template: Path):
    folder = tmp_path_factory.mktemp("sip-zh")
    shutil.copy(demo_db_template, folder / "bank.db")
    config = write_config(folder, f"sqlite:///{folder / 'bank.db'}", (free_port(), free_port()), warm_up_s=0)
    worker = start_worker(folder, config)
    assert "whisper" in worker.log.read_text() or "Whisper" in worker.log.read_text(), worker.log_tail()
    yield {"folder": folder, "config": config, "worker": worker}
    worker.stop()


def _heard(worker, caller: str) -> list[str]:
    """What the bot recognised in a call's turns, from its log (speech lines of that call)."""
    call_id = worker.cdr_of(caller)["call_id"]
    return re.findall(rf"call={re.escape(call_id)} step=\S+ speech='([^']*)'", worker.log.read_text())


def test_real_mandarin_speech_is_heard_over_sip(zh_lab) -> None:
    rows = dict(list(csv.reader((MANDARIN / "transcripts.tsv").open(encoding="utf-8"), delimiter="\t"))[1:])
    utt = "BAC009S0150W0128"
    wav = zh_lab["folder"] / "read.wav"
    save_wav(wav, _phone(MANDARIN / f"{utt}.wav"))
    caller = "13900000001"
    result = place_call(zh_lab["config"], zh_lab["worker"].uri, f"wait 2; play {wav}; wait 4; hangup",
                        caller=caller, extra=["--lang", "zh-CN"])
    assert result.returncode == 0, result.stderr[-2000:]
    heard = _heard(zh_lab["worker"], caller)
    assert heard, zh_lab["worker"].log_tail()
    assert error_rate(rows[utt], heard[0], "zh-CN") <= 0.35, (rows[utt], heard)


def test_a_mandarin_caller_reports_a_lost_card_by_voice_and_keys(zh_lab) -> None:
    """'我的卡丢了' spoken; the card number, the choice to give the PIN, the PIN and the confirmation keyed."""
    from tests.mandarin_voice import on_the_line, say

    wav = zh_lab["folder"] / "lost.wav"
    save_wav(wav, on_the_line(say("我的卡丢了", "jm_kumo")))
    caller = "13900000002"
    result = place_call(zh_lab["config"], zh_lab["worker"].uri,
                        f"wait 2; play {wav}; wait 6; keys {DEMO_CARD}#; wait 4; keys 1; wait 3; keys {DEMO_PIN}#; "
                        "wait 5; keys 1; wait 6; hangup", caller=caller, extra=["--lang", "zh-CN"], timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    cdr = zh_lab["worker"].cdr_of(caller)
    heard = _heard(zh_lab["worker"], caller)
    assert cdr["intents"] and cdr["intents"][0]["service"] == "card.report_loss", (cdr, heard)
    assert cdr["services"] == ["card.report_loss"], zh_lab["worker"].log_tail()
    assert DEMO_PIN not in zh_lab["worker"].log.read_text()


def test_a_mandarin_caller_reads_a_mobile_number_hears_it_back_says_yes_and_pays(zh_lab) -> None:
    """At the mobile bill, 3 (another number); the number read aloud in its groups, read back by the
    bot, and 对 both to the read-back and to the payment (said again, as a caller would, if the
    recogniser doubted it and the bot asked again; after the payment it is an answer to "anything
    else?"). The yes is 对 because this test voice's 是的 comes back from Whisper at 0.23-0.51 per-token
    probability, astride min_asr_confidence (0.35), so on some CPUs every 是的 was asked again; its
    对 comes back at 0.58-0.77."""
    from tests.mandarin_voice import on_the_line, say
    from voicebot.bank.bank import Bank
    from voicebot.bank.db import make_engine
    from voicebot.bank.demo import OTHER_MOBILE

    number, yes = zh_lab["folder"] / "mobile.wav", zh_lab["folder"] / "yes.wav"
    save_wav(number, on_the_line(say("一三九，一二三四，五六七八", "jf_tebukuro")))
    save_wav(yes, on_the_line(say("对", "jf_tebukuro")))
    caller = "13900000003"
    result = place_call(zh_lab["config"], zh_lab["worker"].uri,
                        f"wait 2; keys 1; wait 1; keys 3; wait 1; keys 2; wait 3; keys {DEMO_CARD}#; wait 3; "
                        f"keys {DEMO_PIN}#; wait 4; keys 3; wait 3; play {number}; wait 9; play {yes}; wait 12; "
                        f"play {yes}; wait 7; play {yes}; wait 7; hangup", caller=caller, extra=["--lang", "zh-CN"],
                        timeout=150)
    assert result.returncode == 0, result.stderr[-2000:]
    worker = zh_lab["worker"]
    call_id = worker.cdr_of(caller)["call_id"]
    steps = re.findall(rf"call={re.escape(call_id)} step=(\S+) speech='([^']*)'", worker.log.read_text())
    assert any(step == "mobile_number:read_back" and "对" in said for step, said in steps), steps  # read back: yes
    assert worker.cdr_of(caller)["services"] == ["bill.mobile"], worker.log_tail()
    engine = make_engine(f"sqlite:///{zh_lab['folder'] / 'bank.db'}")
    try:
        assert Bank(engine).bills_for("mobile", OTHER_MOBILE) == [], steps  # paid
    finally:
        engine.dispose()
    assert OTHER_MOBILE not in worker.log.read_text()
