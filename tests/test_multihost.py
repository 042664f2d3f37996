"""The line on several hosts: front door, two workers, an NLU host and a database host, each a
network namespace on one switch, each role started from its systemd unit with its host's file
from deploy/hosts/ (see tests/netns.py). Callers on a caller host phone the front door.

Each worker host runs two workers (voicebot-worker@0 and @1).
Proved here: calls spread over both worker hosts with RTP between caller and worker, and every
worker's CDRs land in the one database; losing the NLU host puts callers on the keypad, not
down; a database crash and restart loses no committed payment; losing a whole worker host
moves new calls to the other. The fail-over times are printed (-s shows them).
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests import pg as postgres
from tests.calls import DEMO_CARD, DEMO_PIN
from tests.netns import HOSTS, Lab, NamespacesUnavailable, start_line
from tests.sip import PROJECT, VOICEBOT, env_for

pytestmark = pytest.mark.sip

URI = "sip:95588@10.20.0.11:5060"
WORKER_HOSTS = {HOSTS["worker1"], HOSTS["worker2"]}
BALANCE_BY_KEYS = (f"wait 1.5; keys 1; wait 1; keys 1; wait 1; keys 1; wait 1; keys {DEMO_CARD}#; wait 1; "
                   f"keys {DEMO_PIN}#")


class Line:
    def __init__(self, lab: Lab, pg: postgres.TestPostgres, folder: Path) -> None:
        self.lab, self.pg, self.folder = lab, pg, folder
        self.caller_config = folder / "caller.toml"
        self.caller_config.write_text(f'[logging]\nfile = "{folder / "caller.log"}"\n')
        self.figures: dict[str, float] = {}

    def call(self, script: str, caller: str, timeout: float = 90) -> tuple[int, list[dict], float]:
        """A call from the caller host through the front door: exit code, events, seconds to answer."""
        return self.calls([(script, caller)], timeout)[0]

    def calls(self, scripts: list[tuple[str, str]], timeout: float = 90) -> list[tuple[int, list[dict], float]]:
        """Calls placed at once, each (script, caller number)."""
        procs = [subprocess.Popen(self.lab["caller"].exec_argv(
            [*VOICEBOT, "call", URI, "--bind", HOSTS["caller"], "--script", script, "--caller-id", caller, "--jsonl",
             "--timeout", str(timeout)]), env=env_for(self.caller_config), cwd=PROJECT, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True) for script, caller in scripts]
        results = []
        for proc in procs:
            out, _ = proc.communicate(timeout=timeout + 30)
            events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
            at = {e["event"]: e["t"] for e in reversed(events)}  # the first of each
            answer_s = at["connected"] - at["dialing"] if "connected" in at and "dialing" in at else float("nan")
            results.append((proc.returncode, events, answer_s))
        return results

    def sql(self, query: str, *args: object) -> list[tuple]:
        return self.pg.query("voicebot", query, *args)

    def cdrs(self, caller: str, timeout: float = 20) -> list[dict]:
        """The database's CDRs of this caller (written by whichever worker took the call)."""
        end = time.monotonic() + timeout
        while True:
            rows = [json.loads(body) for (body,) in self.sql("SELECT body FROM cdrs ORDER BY id")]
            mine = [r for r in rows if r.get("caller") == caller]
            if mine or time.monotonic() > end:
                return mine
            time.sleep(0.5)

    def logs(self) -> str:
        return "\n".join(host.log_tail() for host in self.lab.hosts.values())


@pytest.fixture(scope="module")
def line(tmp_path_factory: pytest.TempPathFactory):
    try:
        Lab.check()
    except NamespacesUnavailable as exc:
        pytest.skip(f"no network namespaces here: {exc}")
    folder = tmp_path_factory.mktemp("multihost")
    try:
        lab, pg = start_line(folder)
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    running = Line(lab, pg, folder)
    try:
        yield running
        print("\nmulti-host fail-over:", ", ".join(f"{k} {v:.1f} s" for k, v in running.figures.items()))
    finally:
        lab.down()
        pg.stop()


def test_calls_spread_over_both_worker_hosts_and_their_cdrs_land_in_one_database(line: Line) -> None:
    for code, events, _ in line.calls([(f"{BALANCE_BY_KEYS}; wait 2; hangup", f"1380000070{i}") for i in range(4)]):
        assert code == 0, line.logs()
        heard = max((e.get("voice_s", 0) for e in events if e["event"] == "heard"), default=0)
        assert heard > 2, (events, line.logs())  # RTP from the worker host
    cdrs = [c for i in range(4) for c in line.cdrs(f"1380000070{i}")]
    assert len(cdrs) == 4 and all(c["services"] == ["account.balance"] for c in cdrs)
    assert {c["worker"].split(":")[0] for c in cdrs} == WORKER_HOSTS  # both hosts took calls, one database has all
    # each host recorded its calls, the card and PIN steps paused, under the line's one key
    recorded = {}
    for host in ("worker1", "worker2"):
        listed = line.lab[host].voicebot("recordings", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        recorded.update({r["call_id"]: r for r in map(json.loads, listed.stdout.splitlines())})
    assert all(len(recorded[c["call_id"]]["paused_spans"]) == 1 for c in cdrs), recorded


def test_a_spoken_request_reaches_the_nlu_host(line: Line) -> None:
    from voicebot.speech.tts import Synthesizer
    from voicebot.telephony.softphone import save_wav

    wav = line.folder / "balance.wav"
    save_wav(wav, Synthesizer(sample_rate=8000).render("what is my account balance", "en-US"))
    code, _, _ = line.call(f"wait 1.5; play {wav}; wait 3; keys {DEMO_CARD}#; wait 1; keys {DEMO_PIN}#; wait 3; "
                           "hangup", caller="13800000710")
    assert code == 0
    [cdr] = line.cdrs("13800000710")
    assert cdr["services"] == ["account.balance"]
    assert cdr["intents"][0]["service"] == "account.balance"


def test_losing_the_nlu_host_puts_callers_on_the_keypad_not_down(line: Line) -> None:
    wav = line.folder / "balance.wav"
    line.lab["nlu"].cable(False)
    try:
        code, events, _ = line.call(f"wait 1.5; play {wav}; wait 5; {BALANCE_BY_KEYS}; wait 2; hangup",
                                    caller="13800000720")
    finally:
        line.lab["nlu"].cable(True)
    assert code == 0
    [cdr] = line.cdrs("13800000720")
    assert cdr["services"] == ["account.balance"] and cdr["outcome"] != "failed"  # served by keys
    worker_logs = "".join((line.folder / w / "log" / "voicebot.log").read_text(errors="replace")
                          for w in ("worker1", "worker2"))
    assert f"call={cdr['call_id']} nlu unavailable" in worker_logs
    replies = [e["latency_s"] for e in events if e["event"] == "reply"]
    line.figures["NLU host lost: the spoken request answered (keypad offered) after"] = replies[0]
    # back on the network: speech is understood again
    code, events, _ = line.call(f"wait 1.5; play {wav}; wait 3; keys {DEMO_CARD}#; wait 1; keys {DEMO_PIN}#; wait 3; "
                           "hangup", caller="13800000721")
    assert code == 0 and line.cdrs("13800000721")[0]["intents"][0]["service"] == "account.balance"
    line.figures["NLU host back: the spoken request answered after"] = \
        [e["latency_s"] for e in events if e["event"] == "reply"][0]


def test_a_database_crash_loses_no_committed_payment(line: Line) -> None:
    [(before,)] = line.sql("SELECT balance_minor FROM accounts WHERE number = (SELECT a.number FROM accounts a "
                           "JOIN cards c ON c.customer_id = a.customer_id WHERE c.number = %s AND a.kind = 'current' "
                           "AND a.currency = 'CNY')", DEMO_CARD)
    pay = (f"wait 1.5; keys 1; wait 1; keys 3; wait 1; keys 4; wait 1; keys {DEMO_CARD}#; wait 1; keys {DEMO_PIN}#; "
           "wait 4; keys 1; wait 3; hangup")
    code, _, _ = line.call(pay, caller="13800000730")
    assert code == 0
    [cdr] = line.cdrs("13800000730")
    assert "bill.electricity" in cdr["services"], line.logs()
    line.pg.crash()  # as a power cut: no checkpoint
    line.pg.begin()
    [(after,)] = line.sql("SELECT balance_minor FROM accounts WHERE number = (SELECT a.number FROM accounts a "
                          "JOIN cards c ON c.customer_id = a.customer_id WHERE c.number = %s AND a.kind = 'current' "
                          "AND a.currency = 'CNY')", DEMO_CARD)
    assert before - after == 8650  # the payment committed before the crash is there, once
    assert line.sql("SELECT count(*) FROM bills WHERE bill_type = 'electricity' AND paid_at IS NULL "
                    "AND customer_id = (SELECT customer_id FROM cards WHERE number = %s)", DEMO_CARD) == [(0,)]
    # the workers reconnect by themselves: the next caller is served from the restarted database
    code, _, answer_s = line.call(f"{BALANCE_BY_KEYS}; wait 2; hangup", caller="13800000731")
    assert code == 0 and line.cdrs("13800000731")[0]["services"] == ["account.balance"], line.logs()
    line.figures["database restarted: the next call answered after"] = answer_s


def test_losing_a_worker_host_moves_new_calls_to_the_other(line: Line) -> None:
    _, _, normal_s = line.call("wait 1; hangup", caller="13800000740")
    line.lab["worker2"].power_off()
    lost_at = time.monotonic()
    answers = []
    for i in range(2):  # one after the other: the first finds the lost host in the front door's rotation
        code, _, answer_s = line.call(f"{BALANCE_BY_KEYS}; wait 1; hangup", caller=f"1380000075{i}")
        assert code == 0, line.logs()
        answers.append(answer_s)
    hosts = {line.cdrs(f"1380000075{i}")[0]["worker"].split(":")[0] for i in range(2)}
    assert hosts == {HOSTS["worker1"]}
    line.figures["worker host lost: the next two calls answered after"] = answers[0]
    line.figures["and"] = answers[1]
    line.figures["(a call's answer time before)"] = normal_s
    assert time.monotonic() - lost_at < 120
