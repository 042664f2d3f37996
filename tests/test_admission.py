"""Admission control: calls over the line's limit are refused politely while calls in progress are served.

The decisions are unit-tested; then over real SIP a worker limited to one call serves it and
tells a second caller that the lines are busy (the bot's words recognised back), and in the
"503" mode refuses the second INVITE with Retry-After; the front door's rendered configuration
carries the line's limit.
"""

from __future__ import annotations

import shutil
import time
import urllib.request
from pathlib import Path

import pytest

from tests.sip import finish_call, free_port, place_call, sipp, start_call, start_worker, write_config
from voicebot.config import ConfigError, load_config
from voicebot.telephony.admission import BUSY_HEADER, Admission, CapacitySettings

INVITE = "INVITE sip:95588@127.0.0.1 SIP/2.0\r\nCall-ID: a\r\nCSeq: 1 INVITE\r\n\r\n"
MARKED = INVITE.replace("CSeq", f"{BUSY_HEADER}: line-full\r\nCSeq")
SIPP = Path(__file__).resolve().parent / "sipp"


def test_a_worker_admits_up_to_its_limit_then_plays_the_busy_message_while_a_slot_is_free() -> None:
    admission = Admission(CapacitySettings(max_calls=2), slots=4)
    assert admission.decide(INVITE, admitted=1, busy_playing=0).admit
    over = admission.decide(INVITE, admitted=2, busy_playing=0)
    assert not over.admit and over.busy_message
    no_slot = admission.decide(INVITE, admitted=2, busy_playing=2)
    assert not no_slot.admit and not no_slot.busy_message and no_slot.status == 486


def test_the_front_doors_mark_means_busy_even_with_room_and_status_modes_answer_at_once() -> None:
    assert Admission(CapacitySettings(), slots=4).decide(MARKED, admitted=0, busy_playing=0).busy_message
    refuse = Admission(CapacitySettings(max_calls=1, busy="503", retry_after_s=30), slots=4)
    verdict = refuse.decide(INVITE, admitted=1, busy_playing=0)
    assert (verdict.admit, verdict.busy_message, verdict.status) == (False, False, 503)
    assert refuse.retry_after() == {"Retry-After": "30"}
    assert Admission(CapacitySettings(max_calls=9), slots=4).limit == 4  # never more than the slots


def test_capacity_settings_are_checked_at_start(tmp_path: Path) -> None:
    path = tmp_path / "voicebot.toml"
    path.write_text('[capacity]\nmax_calls = 40\nbusy = "503"\nretry_after_s = 20\n')
    assert load_config(path).capacity == CapacitySettings(40, "503", 20)
    for bad in ('busy = "ring-forever"', "max_calls = -1", 'max_calls = "many"'):
        path.write_text(f"[capacity]\n{bad}\n")
        with pytest.raises(ConfigError, match="capacity"):
            load_config(path)


@pytest.mark.sip
def test_the_front_door_carries_the_lines_limit(tmp_path: Path) -> None:
    from voicebot.cluster.processes import render_kamailio

    if shutil.which("kamailio") is None:
        pytest.fail("kamailio is needed (scripts/setup.sh installs it)")
    limited = render_kamailio(tmp_path / "a", "127.0.0.1", 5060, [("127.0.0.1", 5061)], line_calls=35).read_text()
    assert 'get_profile_size("line", "$var(line)") && $var(line) >= 35' in limited
    assert 'append_hf("X-Voicebot-Busy: line-full\\r\\n")' in limited  # a worker plays the message
    status = render_kamailio(tmp_path / "b", "127.0.0.1", 5060, [("127.0.0.1", 5061)], line_calls=35,
                             capacity=CapacitySettings(busy="503", retry_after_s=45)).read_text()
    assert 'append_to_reply("Retry-After: 45\\r\\n")' in status and 'sl_send_reply("503"' in status
    unlimited = render_kamailio(tmp_path / "c", "127.0.0.1", 5060, [("127.0.0.1", 5061)]).read_text()
    assert "get_profile_size(\"line\"" not in unlimited  # kamailio -c accepted all three


@pytest.fixture(scope="module")
def one_call_line(tmp_path_factory: pytest.TempPathFactory, demo_db_template: Path):
    folder = tmp_path_factory.mktemp("admission")
    shutil.copy(demo_db_template, folder / "bank.db")
    config = write_config(folder, f"sqlite:///{folder / 'bank.db'}", (free_port(), free_port()), nlu="keywords",
                          extra="[capacity]\nmax_calls = 1\n")
    worker = start_worker(folder, config)
    yield {"folder": folder, "config": config, "worker": worker}
    worker.stop()


@pytest.mark.sip
def test_a_caller_over_the_limit_hears_lines_busy_while_the_call_in_progress_is_served(one_call_line) -> None:
    from voicebot.config import PROJECT_DIR
    from voicebot.speech import backends
    from voicebot.speech.audio import read_wav

    worker, config = one_call_line["worker"], one_call_line["config"]
    served = start_call(config, worker.uri, "wait 3; keys 1; wait 2; keys 1; wait 2; keys 1; wait 4; hangup",
                        caller="13800000401")
    time.sleep(2)  # the first call is up
    heard = one_call_line["folder"] / "busy.wav"
    refused = place_call(config, worker.uri, "await-hangup", caller="13800000402", extra=["--record", str(heard)],
                         timeout=30)
    assert refused.first("connected") is not None and refused.first("disconnected") is not None
    first = finish_call(served)
    assert first.returncode == 0, first.stderr
    cdr = worker.cdr_of("13800000402")
    assert cdr["outcome"] == "busy" and cdr["services"] == []
    assert worker.cdr_of("13800000401")["outcome"] != "busy"
    assert first.first("heard")["voice_s"] > 5  # greeting and three menus: the call in progress went on
    samples, rate = read_wav(heard)
    text, _ = backends.load(PROJECT_DIR / "models", "en-US").transcribe(samples, rate)
    assert "too many people are calling" in text and "call again" in text, text
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{worker.metrics_port}/metrics", timeout=5).read().decode()
    assert 'voicebot_calls_refused_total{answer="message",reason="line_full"} 1' in metrics


@pytest.mark.sip
def test_in_the_503_mode_a_caller_over_the_limit_is_refused_with_retry_after(tmp_path: Path,
                                                                              demo_db_template: Path) -> None:
    shutil.copy(demo_db_template, tmp_path / "bank.db")
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'bank.db'}", (free_port(), free_port()),
                          nlu="keywords", extra='[capacity]\nmax_calls = 1\nbusy = "503"\nretry_after_s = 45\n')
    worker = start_worker(tmp_path, config)
    try:
        served = start_call(config, worker.uri, "wait 6; hangup", caller="13800000403")
        time.sleep(2)
        second = sipp(SIPP / "expect_line_full_503.xml", f"127.0.0.1:{worker.port}", timeout_s=20)
        assert second.returncode == 0, second.stdout[-2000:]
        assert finish_call(served).returncode == 0
    finally:
        worker.stop()


@pytest.mark.cluster
def test_the_front_door_counts_the_lines_calls_and_sends_the_next_caller_to_the_busy_message(
        tmp_path: Path, demo_db_template: Path) -> None:
    """Two workers with slots to spare, a line of one call: the front door, not a worker, decides."""
    import json

    from tests.sip import start_cluster

    shutil.copy(demo_db_template, tmp_path / "bank.db")
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'bank.db'}", (free_port(), free_port()), nlu="keywords")
    cluster = start_cluster(tmp_path, config, workers=2, extra=["--calls", "1", "--lang", "en-US"])
    try:
        served = start_call(config, cluster.uri, "wait 3; keys 1; wait 2; keys 1; wait 4; hangup",
                            caller="13800000411")
        time.sleep(2)
        refused = place_call(config, cluster.uri, "await-hangup", caller="13800000412", timeout=30)
        assert refused.first("connected") is not None and refused.first("disconnected") is not None
        assert finish_call(served).returncode == 0
        time.sleep(1)
        after = place_call(config, cluster.uri, "wait 3; keys 1; wait 1; hangup", caller="13800000413")
        assert after.returncode == 0  # the first call ended: the line has room again
        deadline, outcomes = time.monotonic() + 20, {}
        while time.monotonic() < deadline and len(outcomes) < 3:
            lines = cluster.cdr.read_text().splitlines() if cluster.cdr.exists() else []
            outcomes = {c["caller"]: c["outcome"] for c in map(json.loads, lines)}
            time.sleep(0.5)
        assert outcomes["13800000412"] == "busy"
        assert outcomes["13800000411"] != "busy" and outcomes["13800000413"] != "busy"
        assert "line full" in (cluster.state / "kamailio.log").read_text()
    finally:
        cluster.stop()
