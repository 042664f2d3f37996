"""`voicebot cluster` on loopback: Kamailio in front of 3 workers sharing one Rasa server.

12 concurrent sipp calls through the front door, a worker killed mid-run (its calls end, new
calls still answered, the worker restarted), a spoken request and a key path end to end, and
a transfer through the proxy.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.calls import DEMO_CARD, DEMO_PIN
from tests.sip import PROJECT, free_port, place_call, sipp, start_cluster, start_seat, write_config
from voicebot.speech.tts import Synthesizer
from voicebot.telephony.softphone import save_wav

pytestmark = pytest.mark.sip

if shutil.which("kamailio") is None:
    pytest.fail("kamailio is not installed (scripts/setup.sh installs the Debian package)", pytrace=False)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, demo_db_template: Path):
    folder = tmp_path_factory.mktemp("cluster")
    shutil.copy(demo_db_template, folder / "bank.db")
    agents = (free_port(), free_port())
    config = write_config(folder, f"sqlite:///{folder / 'bank.db'}", agents)
    running = start_cluster(folder, config, workers=3, extra=["--lang", "en-US"])
    wav = folder / "balance.wav"
    save_wav(wav, Synthesizer(sample_rate=8000).render("what is my account balance", "en-US"))
    yield {"proc": running.proc, "port": running.port, "cdr": running.cdr, "config": config, "folder": folder,
           "agents": agents, "wav": wav, "uri": running.uri}
    running.stop()


def cdrs(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def worker_pids(cdr: Path) -> dict[str, int]:
    """The cluster's workers (they share its CDR file), by SIP port."""
    out = subprocess.run(["pgrep", "-af", "voicebot serve"], capture_output=True, text=True).stdout
    pids = {}
    for line in out.splitlines():
        pid, cmd = line.split(" ", 1)
        if f"--cdr {cdr}" in cmd:
            port = cmd.split("--sip-port ")[1].split()[0]
            pids[port] = int(pid)
    return pids


def test_twelve_concurrent_calls_through_the_front_door(cluster) -> None:
    run = sipp("hold_and_hang_up.xml", f"127.0.0.1:{cluster['port']}", timeout_s=90,
               extra=["-m", "12", "-l", "12", "-r", "12", "-rp", "1000"])
    assert run.returncode == 0, run.stdout[-3000:]
    time.sleep(1)
    ended = [c for c in cdrs(cluster["cdr"]) if c["caller"] == "13955556666"]
    assert len(ended) == 12
    assert len({c["call_id"] for c in ended}) == 12
    assert len({c["worker"] for c in ended}) == 3  # spread over all three workers


def test_a_spoken_request_and_keys_through_the_front_door(cluster) -> None:
    result = place_call(cluster["config"], cluster["uri"], f"wait 1.5; play {cluster['wav']}; wait 2.5; "
                        f"keys {DEMO_CARD}#; wait 1; keys {DEMO_PIN}#; listen; hangup", caller="13800000020")
    assert result.returncode == 0, result.stderr
    mine = [c for c in cdrs(cluster["cdr"]) if c["caller"] == "13800000020"]
    assert mine and mine[-1]["services"] == ["account.balance"]
    assert mine[-1]["intents"][0]["service"] == "account.balance"  # through the shared Rasa server
    for pid in worker_pids(cluster["cdr"]).values():  # a worker that parses over HTTP stays light
        mapped = Path(f"/proc/{pid}/maps").read_text()
        assert "/scipy/" not in mapped and "/tensorflow/" not in mapped
        # forked from the supervisor: the speech model (124 MB) is one copy shared by all workers
        memory = {line.split(":")[0]: int(line.split()[1]) for line in
                  Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]}
        assert memory["Shared_Dirty"] > 100 * 1024 and memory["Pss"] < memory["Rss"] - 60 * 1024, memory


def test_mandarin_speech_is_heard_by_the_one_shared_whisper_server(cluster) -> None:
    """Each worker would hold its own Whisper (about 188 MB each); the cluster serves one to all."""
    import csv
    import re

    from tests.test_mandarin_speech import MANDARIN, _phone
    from voicebot.speech.scoring import error_rate

    rows = dict(list(csv.reader((MANDARIN / "transcripts.tsv").open(encoding="utf-8"), delimiter="\t"))[1:])
    utt = "BAC009S0150W0128"
    wav = cluster["folder"] / "read-zh.wav"
    save_wav(wav, _phone(MANDARIN / f"{utt}.wav"))
    caller = "13900000031"
    result = place_call(cluster["config"], cluster["uri"], f"wait 2; play {wav}; wait 4; hangup", caller=caller,
                        extra=["--lang", "zh-CN"])
    assert result.returncode == 0, result.stderr[-2000:]
    call_id = [c for c in cdrs(cluster["cdr"]) if c["caller"] == caller][-1]["call_id"]
    log = (cluster["folder"] / "voicebot.log").read_text()
    heard = re.findall(rf"call={re.escape(call_id)} step=\S+ speech='([^']*)'", log)
    assert heard and error_rate(rows[utt], heard[0], "zh-CN") <= 0.35, (rows[utt], heard)
    state = PROJECT / "var" / f"cluster-{cluster['port']}"
    assert "speech server ready" in (state / "speech.log").read_text()
    for pid in worker_pids(cluster["cdr"]).values():  # no worker loaded a Whisper model of its own
        assert "ctranslate2" not in Path(f"/proc/{pid}/maps").read_text()


def test_a_shared_server_that_dies_is_started_again(cluster) -> None:
    import re

    state = PROJECT / "var" / f"cluster-{cluster['port']}"
    port = re.search(r"speech server ready on 127.0.0.1:(\d+)", (state / "speech.log").read_text()).group(1)

    def speech_pids() -> set[int]:  # this cluster's server only
        out = subprocess.run(["pgrep", "-f", f"voicebot.speech.whisper_server .*--port {port} "],
                             capture_output=True, text=True).stdout
        return {int(p) for p in out.split()}

    readies = (state / "speech.log").read_text().count("speech server ready")
    before = speech_pids()
    assert len(before) == 1 and readies >= 1
    os.kill(before.pop(), signal.SIGKILL)
    end = time.monotonic() + 30
    while not speech_pids() and time.monotonic() < end:
        time.sleep(0.5)
    assert speech_pids(), "the speech server was not started again"
    end = time.monotonic() + 60  # the same port and token: the workers' turns reach it again
    while (state / "speech.log").read_text().count("speech server ready") == readies and time.monotonic() < end:
        time.sleep(0.5)
    assert (state / "speech.log").read_text().count("speech server ready") == readies + 1


def test_a_forked_command_writes_to_its_log_and_reports_how_it_ended(tmp_path: Path) -> None:
    from voicebot.cluster.forked import fork_command

    log = tmp_path / "child.log"
    child = fork_command(["--version"], log, dict(os.environ), Path.cwd())
    assert child.wait(60) == 0 and "voicebot, version" in log.read_text()
    assert fork_command(["no-such-command"], log, dict(os.environ), Path.cwd()).wait(60) == 2
    assert "No such command" in log.read_text()


def test_a_transfer_through_the_proxy(cluster) -> None:
    seat = start_seat(cluster["folder"], cluster["config"], cluster["agents"][0], "--answer-after", "1",
                      "--ring-s", "0.3", "--hangup-after", "1")
    try:
        result = place_call(cluster["config"], cluster["uri"], "wait 1; keys 0; wait 0.5; keys 1; await-hangup",
                            caller="13800000021")
        seat.wait_for("ended")
    finally:
        seat.stop()
    assert result.returncode == 0, result.stderr
    mine = [c for c in cdrs(cluster["cdr"]) if c["caller"] == "13800000021"]
    assert mine and mine[-1]["outcome"] == "transferred"


def test_a_killed_worker_is_routed_around_and_restarted(cluster) -> None:
    before = worker_pids(cluster["cdr"])
    assert len(before) == 3
    victim_port, victim = sorted(before.items())[0]
    os.kill(victim, signal.SIGKILL)
    time.sleep(0.5)
    # new calls are still answered (by the other two) while the worker is down
    run = sipp("hold_and_hang_up.xml", f"127.0.0.1:{cluster['port']}", timeout_s=60,
               extra=["-m", "4", "-l", "4", "-r", "4", "-rp", "1000"])
    assert run.returncode == 0, run.stdout[-3000:]
    end = time.monotonic() + 120
    while time.monotonic() < end:
        after = worker_pids(cluster["cdr"])
        if victim_port in after and after[victim_port] != victim:
            break
        time.sleep(1)
    else:
        pytest.fail(f"worker on {victim_port} was not restarted: {worker_pids(cluster['folder'])}")


def test_a_rolling_restart_drains_each_worker_instead_of_hanging_up(cluster) -> None:
    """SIGHUP restarts the workers one by one: a call in progress goes on to its end, new calls
    are answered by the other workers meanwhile, and every worker comes back with a new process."""
    from tests.sip import finish_call, start_call

    before = worker_pids(cluster["cdr"])
    long_call = start_call(cluster["config"], cluster["uri"], "wait 3; keys 1; wait 14; hangup",
                           caller="13800000051")
    time.sleep(4)
    os.kill(cluster["proc"].pid, signal.SIGHUP)
    run = sipp("hold_and_hang_up.xml", f"127.0.0.1:{cluster['port']}", timeout_s=60,
               extra=["-m", "3", "-l", "3", "-r", "1", "-rp", "1000"])
    assert run.returncode == 0, run.stdout[-3000:]
    result = finish_call(long_call)
    assert result.returncode == 0, result.stderr
    mine = [c for c in cdrs(cluster["cdr"]) if c["caller"] == "13800000051"]
    assert mine and mine[-1]["outcome"] != "failed"
    from datetime import datetime

    lasted = datetime.fromisoformat(mine[-1]["ended_at"]) - datetime.fromisoformat(mine[-1]["started_at"])
    assert lasted.total_seconds() >= 16  # the caller hung up, not the draining worker
    end = time.monotonic() + 300
    while time.monotonic() < end:
        after = worker_pids(cluster["cdr"])
        if len(after) == len(before) and not set(after.values()) & set(before.values()):
            break
        time.sleep(2)
    else:
        pytest.fail(f"not every worker was restarted: before {before}, after {worker_pids(cluster['cdr'])}")
    assert place_call(cluster["config"], cluster["uri"], "wait 3; keys 1; wait 1; hangup",
                      caller="13800000052").returncode == 0


def test_sigterm_stops_everything(cluster) -> None:
    proc = cluster["proc"]
    os.killpg(proc.pid, signal.SIGTERM)
    assert proc.wait(90) == 0
    time.sleep(1)
    assert worker_pids(cluster["cdr"]) == {}
