"""An attacker on the line, over real SIP: the cluster's front door and its workers on loopback.

Each source is its own loopback address, so the front door's per-source limits are really
exercised: legitimate callers from 127.0.0.2, attackers and scanners from others, the
workers' SIP on 127.0.0.10 (inside). Every flood is bounded in count and time, loopback only.
The last test greps every file the run wrote for the demo secrets.
"""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.calls import DEMO_CARD, DEMO_PIN, MOTHER_CARD, MOTHER_PIN
from tests.sip import (
    free_port,
    info_keys_scenario,
    place_call,
    sipp,
    sipp_start,
    start_cluster,
    write_config,
)
from voicebot.speech.tts import PromptCache, Synthesizer

pytestmark = pytest.mark.sip

CALLER_HOST, WORKER_HOST = "127.0.0.2", "127.0.0.10"
MAX_CALLS_PER_SOURCE = 2
WRONG_PINS = ("246813", "975310", "864201")  # guesses: secrets too, as far as files go
PROMPTS = Path(__file__).resolve().parent.parent / "audio_prompts"

if shutil.which("kamailio") is None or shutil.which("sipp") is None:
    pytest.fail("kamailio and sipp are needed (scripts/setup.sh installs them)", pytrace=False)


@pytest.fixture(scope="module")
def door(tmp_path_factory: pytest.TempPathFactory, demo_db_template: Path):
    folder = tmp_path_factory.mktemp("abuse")
    shutil.copy(demo_db_template, folder / "bank.db")
    config = write_config(folder, f"sqlite:///{folder / 'bank.db'}", (free_port(), free_port()), nlu="keywords",
                          max_hold_s=4.0,
                          extra=f"[front_door]\npike_density = 30\nmax_calls_per_source = {MAX_CALLS_PER_SOURCE}\n")
    prompts_before = {p: p.stat().st_mtime for p in PROMPTS.rglob("*") if p.is_file()}
    started = time.time()
    running = start_cluster(folder, config, workers=2, extra=["--worker-bind", WORKER_HOST])
    yield {"cluster": running, "folder": folder, "config": config, "target": f"127.0.0.1:{running.port}",
           "started": started, "prompts_before": prompts_before}
    running.stop()


def _kamailio_log(door: dict) -> str:
    return (door["cluster"].state / "kamailio.log").read_text(errors="replace")


def _cdrs(door: dict) -> list[dict]:
    cdr = door["cluster"].cdr
    return [json.loads(line) for line in cdr.read_text().splitlines()] if cdr.exists() else []


def _cdr_of(door: dict, caller: str, timeout: float = 20.0) -> dict:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        lines = [c for c in _cdrs(door) if c["caller"] == caller]
        if lines:
            return lines[-1]
        time.sleep(0.2)
    raise AssertionError(f"no CDR for {caller}")


class Listener:
    """A UDP socket standing for a number an attacker wants dialled; counts what reaches it."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]

    def received(self, wait_s: float) -> list[bytes]:
        got, end = [], time.monotonic() + wait_s
        while time.monotonic() < end:
            try:
                got.append(self.sock.recv(65535))
            except TimeoutError:
                pass
        self.sock.close()
        return got


def _balance_call(door: dict, caller: str) -> None:
    """A caller from the legitimate address hears their balance by keys."""
    script = (f"wait 1; keys 1; wait 1; keys 1; wait 1; keys 1; wait 1; keys {DEMO_CARD}#; wait 1; keys {DEMO_PIN}#;"
              " wait 4; hangup")
    result = place_call(door["config"], door["cluster"].uri, script, caller=caller, extra=["--bind", CALLER_HOST])
    assert result.returncode == 0, result.stderr[-2000:]
    assert _cdr_of(door, caller)["services"] == ["account.balance"]


def test_a_callers_refer_is_refused_and_nothing_is_dialled(door) -> None:
    """Before: the bot accepted the REFER and sent INVITEs to the premium number (then crashed)."""
    premium = Listener()
    run = sipp("refer_injection.xml", door["target"], source="127.0.0.5", timeout_s=30,
               extra=["-set", "premium", f"127.0.0.1:{premium.port}"])
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]  # the scenario expects 403
    assert premium.received(3.0) == []
    assert "REFER from the caller refused" in (door["folder"] / "voicebot.log").read_text()


def _raw_request(method: str, door_port: int, target_port: int, source: str) -> str:
    """An in-dialog-looking request with a foreign Request-URI, sent to the front door; its answer."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((source, 0))
        s.settimeout(3)
        lport = s.getsockname()[1]
        msg = (f"{method} sip:victim@127.0.0.1:{target_port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP {source}:{lport};branch=z9hG4bK{time.time_ns()}\r\n"
               f"Route: <sip:127.0.0.1:{door_port};lr>\r\nMax-Forwards: 70\r\n"
               f"From: <sip:x@{source}>;tag=a1\r\nTo: <sip:victim@127.0.0.1>;tag=made-up\r\n"
               f"Call-ID: relay-{time.time_ns()}@{source}\r\nCSeq: 1 {method}\r\n"
               f"Contact: <sip:x@{source}:{lport}>\r\nContent-Length: 0\r\n\r\n")
        s.sendto(msg.encode(), ("127.0.0.1", door_port))
        try:
            return s.recv(65535).decode(errors="replace").split("\r\n", 1)[0]
        except TimeoutError:
            return "no answer"


def test_the_front_door_relays_nothing_for_a_dialog_it_did_not_make(door) -> None:
    """Before: any request with a To-tag and a Route to the front door was relayed to its Request-URI."""
    victim = Listener()
    answers = {m: _raw_request(m, door["cluster"].port, victim.port, "127.0.0.6") for m in ("INVITE", "MESSAGE",
                                                                                              "OPTIONS", "BYE")}
    assert victim.received(2.0) == []
    assert all(answer.startswith("SIP/2.0 403") for answer in answers.values()), answers


def test_a_callers_own_dialog_relays_nothing_to_another_port_of_a_worker(door) -> None:
    """Before: the in-dialog check compared a worker's address without its port, so a caller could
    send requests of their own dialog to any port of a worker's host (its other services)."""
    victim = Listener(WORKER_HOST)
    source, port = "127.0.0.8", door["cluster"].port
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((source, 0))
        s.settimeout(1.0)
        lport = s.getsockname()[1]
        call_id = f"relay-own-{time.time_ns()}@{source}"
        sdp = (f"v=0\r\no=- 1 1 IN IP4 {source}\r\ns=-\r\nc=IN IP4 {source}\r\nt=0 0\r\n"
               f"m=audio {lport + 2} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")

        def send(method: str, uri: str, cseq: int, *, to: str, routes: list[str], body: str = "") -> None:
            msg = (f"{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {source}:{lport};branch=z9hG4bK{time.time_ns()}\r\n"
                   + "".join(f"Route: {r}\r\n" for r in routes)
                   + f"Max-Forwards: 70\r\nFrom: <sip:13811113333@{source}>;tag=own1\r\nTo: {to}\r\n"
                   f"Call-ID: {call_id}\r\nCSeq: {cseq} {method}\r\nContact: <sip:x@{source}:{lport}>\r\n"
                   + ("Content-Type: application/sdp\r\n" if body else "")
                   + f"Content-Length: {len(body)}\r\n\r\n{body}")
            s.sendto(msg.encode(), ("127.0.0.1", port))

        def final(method: str, timeout: float = 10.0) -> str:
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                try:
                    answer = s.recv(65535).decode(errors="replace")
                except TimeoutError:
                    continue
                if not answer.startswith("SIP/2.0 1") and f" {method}\r\n" in answer:
                    return answer
            return "no answer"

        send("INVITE", f"sip:95588@127.0.0.1:{port}", 1, to="<sip:95588@127.0.0.1>", routes=[], body=sdp)
        ok = final("INVITE")
        assert ok.startswith("SIP/2.0 200"), ok
        heads = [line.split(":", 1) for line in ok.split("\r\n\r\n")[0].split("\r\n")[1:]]
        to = next(v.strip() for k, v in heads if k.strip().lower() in ("to", "t"))
        routes = [v.strip() for k, v in heads if k.strip().lower() == "record-route"]
        contact = next(v.strip() for k, v in heads if k.strip().lower() in ("contact", "m")).strip("<>").split(">")[0]
        send("ACK", contact, 1, to=to, routes=routes)
        send("INFO", f"sip:x@{WORKER_HOST}:{victim.port}", 2, to=to, routes=routes)
        refused = final("INFO", 5.0)
        send("BYE", contact, 3, to=to, routes=routes)
        bye = final("BYE", 5.0)
    assert victim.received(2.0) == []
    assert refused.startswith("SIP/2.0 403"), refused
    assert bye.startswith("SIP/2.0 200"), bye  # the dialog's own requests still reach its worker


def test_an_invite_flood_from_one_source_keeps_no_one_else_out(door) -> None:
    """Before: no limit at the front door; a flood's answered calls took every worker's slots."""
    flood = sipp_start("invite_flood.xml", door["target"], source="127.0.0.3", timeout_s=40, calls=600,
                       extra=["-r", "200", "-l", "600", "-recv_timeout", "3000", "-max_recv_loops", "100"])
    try:
        time.sleep(1.5)
        _balance_call(door, "13800000021")
    finally:
        run = flood.wait_done(70)
    flooded = [c for c in _cdrs(door) if c["caller"] == "13600000000"]
    assert len(flooded) <= MAX_CALLS_PER_SOURCE, len(flooded)  # only that many calls were ever answered
    log = _kamailio_log(door)
    assert "flood from 127.0.0.3" in log or "calls from there, refused" in log, run.stdout[-1500:]


def test_calls_without_audio_are_declined_or_hung_up_and_hold_no_slot(door) -> None:
    """Before: a call answered with m=audio 0 got no runner and no media timeout: four filled a worker."""
    offered = sipp("no_audio_offer.xml", door["target"], source="127.0.0.7", timeout_s=30, calls=10,
                   extra=["-r", "5", "-l", "10"])
    assert offered.returncode == 0, offered.stdout[-3000:] + offered.stderr[-2000:]  # every one got 488
    for scenario in ("no_audio_answer.xml", "held_from_the_start.xml"):  # each call gets the bot's BYE
        answered = sipp(scenario, door["target"], source="127.0.0.7", timeout_s=40, calls=2, extra=["-r", "2"])
        assert answered.returncode == 0, scenario + answered.stdout[-3000:] + answered.stderr[-2000:]
    _balance_call(door, "13800000022")


def test_pin_guessing_over_sip_locks_the_card_for_every_step(door) -> None:
    """Three wrong PINs on a call lock the card; registration, which checks the same PIN, is locked too."""
    guesses = "; ".join(f"wait 1; keys {MOTHER_CARD}#; wait 1; keys {pin}#; wait 3" for pin in WRONG_PINS)
    result = place_call(door["config"], door["cluster"].uri, f"wait 1; keys 1; wait 1; keys 1; wait 1; keys 1; "
                        f"{guesses}; wait 2; hangup", caller="13800000023", extra=["--bind", CALLER_HOST])
    assert result.returncode == 0, result.stderr[-2000:]
    cdr = _cdr_of(door, "13800000023")
    assert cdr["transfer_reason"] == "pin_locked", cdr
    from voicebot.bank.bank import Bank
    from voicebot.bank.db import make_engine
    from voicebot.bank.views import BankError

    bank = Bank(make_engine(f"sqlite:///{door['folder'] / 'bank.db'}"))
    assert bank.authenticate(MOTHER_CARD, MOTHER_PIN).status == "locked"
    with pytest.raises(BankError, match="locked"):
        bank.register(MOTHER_CARD, "0200000000000300", MOTHER_PIN)


def test_a_card_and_pin_keyed_as_one_entry_are_withheld(door) -> None:
    """Before: a 22-digit entry matched neither mask and reached the log whole."""
    result = place_call(door["config"], door["cluster"].uri, f"wait 1; keys 1; wait 1; keys 1; wait 1; keys 1; "
                        f"wait 1; keys {DEMO_CARD}{DEMO_PIN}; wait 5; hangup", caller="13800000024",
                        extra=["--bind", CALLER_HOST])
    assert result.returncode == 0, result.stderr[-2000:]
    _cdr_of(door, "13800000024")
    assert "keys=**********************" in (door["folder"] / "voicebot.log").read_text()


def _cny(door: dict) -> int:
    with sqlite3.connect(door["folder"] / "bank.db") as db:
        return db.execute("SELECT balance_minor FROM accounts WHERE number = '0200000000000100'").fetchone()[0]


def test_two_calls_sharing_a_call_id_each_move_their_own_money(door) -> None:
    """Before: idempotency keys came from the Call-ID: the second call's transfer was a 'replay'."""
    before = _cny(door)
    steps = [("1", 1.5), ("2", 1.5), ("1", 1.5), *[(d, 0.3) for d in DEMO_CARD], ("#", 1.5),
             *[(d, 0.3) for d in DEMO_PIN], ("#", 2.5), ("1", 2.0), ("5", 0.3), ("0", 0.3), ("0", 0.3), ("#", 2.5),
             ("1", 3.0)]
    scenarios = Path(tempfile.mkdtemp(prefix="sipp-keys-"))  # outside the folders the secrets test reads
    runs = [sipp_start(info_keys_scenario(scenarios / f"transfer{i}.xml", steps, caller=f"1370000001{i}"),
                       door["target"], source=CALLER_HOST, timeout_s=90, extra=["-cid_str", "same-call-id@attacker"])
            for i in range(2)]
    results = [run.wait_done(120) for run in runs]
    shutil.rmtree(scenarios)
    assert all(r.returncode == 0 for r in results), [r.stdout[-1500:] + r.stderr[-1500:] for r in results]
    for i in range(2):
        assert _cdr_of(door, f"1370000001{i}")["services"] == ["transfer.local"]
    assert _cny(door) == before - 2 * 500_00


def test_sipvicious_learns_no_product_or_version_and_no_extensions(door) -> None:
    """An independent scanner against the front door. Before: svmap read 'kamailio (5.6.3 (x86_64/linux))'."""
    port = str(door["cluster"].port)
    svmap = subprocess.run([str(Path(sys.executable).with_name("sipvicious_svmap")), "-p", port, "-b", "127.0.0.8",
                            "127.0.0.1"], capture_output=True, text=True, timeout=60)
    assert "127.0.0.1:" + port in svmap.stdout, svmap.stdout + svmap.stderr
    print(svmap.stdout)  # shown with -s: what the scanner learnt
    assert "kamailio" not in svmap.stdout.lower() and "5.6" not in svmap.stdout, svmap.stdout
    svwar = subprocess.run([str(Path(sys.executable).with_name("sipvicious_svwar")), "-p", port, "-b", "127.0.0.9",
                            "-e", "95580-95590", "127.0.0.1"], capture_output=True, text=True, timeout=90)
    print(svwar.stdout, svwar.stderr)
    found = [line for line in svwar.stdout.splitlines() if "reqauth" in line.lower() or "noauth" in line.lower()]
    assert found == [], svwar.stdout + svwar.stderr


def test_internal_headers_from_outside_are_stripped_and_workers_are_inside(door) -> None:
    """A caller cannot pick a region (agent pool) by header; workers answer on their inside address only."""
    from voicebot.cluster.processes import sip_options

    result = place_call(door["config"], door["cluster"].uri, "wait 2; hangup", caller="13800000025",
                        extra=["--bind", CALLER_HOST, "--header", "X-Voicebot-Region: 852"])
    assert result.returncode == 0, result.stderr[-2000:]
    assert _cdr_of(door, "13800000025")["region"] == "010"  # the line's own: 852 was removed at the door
    first_worker = door["cluster"].port + 1
    assert sip_options(WORKER_HOST, first_worker)
    assert not sip_options("127.0.0.1", first_worker, timeout=0.5)  # not on the front door's address


def test_trusted_networks_render_and_a_typo_is_refused(tmp_path: Path) -> None:
    from voicebot.cluster.processes import render_kamailio
    from voicebot.config import FrontDoorLimits

    cfg = render_kamailio(tmp_path, "127.0.0.1", 5999, [("127.0.0.10", 6000)],
                          FrontDoorLimits(trusted=["192.0.2.0/24", "127.0.0.2/32"]))  # checked by kamailio -c
    assert 'is_in_subnet("$si", "192.0.2.0/24") || is_in_subnet("$si", "127.0.0.2/32")' in cfg.read_text()
    with pytest.raises(ValueError):
        render_kamailio(tmp_path, "127.0.0.1", 5999, [("127.0.0.10", 6000)], FrontDoorLimits(trusted=["10.0.0/33"]))


def test_no_secret_reaches_any_file_the_run_wrote(door) -> None:
    """Logs, CDRs, the front door's and workers' logs, prompt caches: no card number, no PIN."""
    time.sleep(2)  # last CDR lines and log lines
    secrets = [DEMO_CARD, DEMO_PIN, MOTHER_PIN, *WRONG_PINS]
    places = [door["folder"], door["cluster"].state]
    read = 0
    for folder in places:
        for path in folder.rglob("*"):
            if not path.is_file() or path.suffix in (".db", ".xml") or path.stat().st_mtime < door["started"]:
                continue
            text = path.read_bytes().decode("utf-8", errors="replace")
            read += 1
            for secret in secrets:
                assert secret not in text, f"{secret} in {path}"
    assert read >= 4  # the workers' log, CDRs, Kamailio's and the workers' own output were all read
    # the prompt cache gained nothing but fixed prompts: no balance or statement was written as audio
    cache = PromptCache(PROMPTS, Synthesizer(sample_rate=8000))
    from voicebot.dialog.static_prompts import static_sentences

    static = {cache.path(s, lang) for lang in ("en-US", "zh-CN") for s in static_sentences(lang)}
    new = [p for p in PROMPTS.rglob("*") if p.is_file() and door["prompts_before"].get(p) != p.stat().st_mtime]
    assert [p for p in new if p not in static] == []


def _invite_to_seat(port: int, headers: dict[str, str], pool_user: str = "agents-010") -> None:
    """A hand-over INVITE as a forger would send it straight to a desk seat (UDP, loopback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        lport = s.getsockname()[1]
        extra = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        msg = (f"INVITE sip:{pool_user}@127.0.0.1:{port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch=z9hG4bK{time.time_ns()}\r\nMax-Forwards: 70\r\n"
               f"From: <sip:13800000099@127.0.0.1>;tag=f1\r\nTo: <sip:{pool_user}@127.0.0.1>\r\n"
               f"Call-ID: forged-{time.time_ns()}@127.0.0.1\r\nCSeq: 1 INVITE\r\n"
               f"Contact: <sip:x@127.0.0.1:{lport}>\r\n{extra}Content-Length: 0\r\n\r\n")
        s.sendto(msg.encode(), ("127.0.0.1", port))
        time.sleep(0.5)


def test_a_hand_over_without_a_signature_is_forged_where_the_seat_has_a_secret(tmp_path: Path) -> None:
    """Before: leaving X-Voicebot-Signature out was classed "unsigned", and the desk showed the
    forged customer and loaded the saved screen pop by its token. Now missing counts as wrong;
    the bot's own signed headers, for this pool, still check out."""
    from tests.sip import start_seat
    from voicebot.telephony.agent_context import context_headers

    secret, port = "seat-secret-for-this-test", free_port()
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'unused.db'}", (port, free_port()), nlu="keywords",
                          agent_secret=secret)
    seat = start_seat(tmp_path, config, port, "--never")
    try:
        forged = {"X-Voicebot-Reason": "consult", "X-Voicebot-Customer": "************0001",
                  "X-Voicebot-Pool": "010", "X-Voicebot-Context": "a-token-seen-on-the-wire"}
        _invite_to_seat(port, forged)
        unsigned = seat.wait_for("incoming")
        signed = context_headers(reason="consult", service="agent", lang="en-US", region="010", call_id="c-1",
                                 identifier="6222020000000001", secret=secret, through_caller=True, pool="010",
                                 context="tok")
        _invite_to_seat(port, signed)
        end = time.monotonic() + 15
        while len([e for e in seat.read() if e["event"] == "incoming"]) < 2 and time.monotonic() < end:
            time.sleep(0.1)
        incoming = [e for e in seat.read() if e["event"] == "incoming"]
    finally:
        seat.stop()
    assert unsigned["context"] == "forged", unsigned
    assert len(incoming) == 2 and incoming[1]["context"] == "verified", incoming


def test_the_hold_limit_counts_every_hold_of_the_call(monkeypatch) -> None:
    """Before: each time the caller took the call off hold, the hold limit started again, so a
    caller could keep a slot for ever by leaving hold for a moment now and then."""
    from types import SimpleNamespace

    import pjsua2 as pj

    from voicebot.telephony import media_watch
    from voicebot.telephony.metrics import Metrics

    clock = [0.0]
    monkeypatch.setattr(media_watch.time, "monotonic", lambda: clock[0])
    state = {"held": True, "packets": 0}
    call = SimpleNamespace(disconnected=False, port=object(), media_index=0, rx_packets=0, rx_changed=0.0,
                           held_since=None, held_before_s=0.0, handover=None, timed_out=False, id_text="c1",
                           hung=[])
    call.getStreamStat = lambda _i: SimpleNamespace(rtcp=SimpleNamespace(rxStat=SimpleNamespace(
        pkt=state["packets"])))
    call.getInfo = lambda: SimpleNamespace(media=[SimpleNamespace(
        status=pj.PJSUA_CALL_MEDIA_REMOTE_HOLD if state["held"] else pj.PJSUA_CALL_MEDIA_ACTIVE)])
    call.hang = lambda: call.hung.append(clock[0])
    watch = media_watch.MediaWatch(Metrics(), timeout_s=30.0, max_hold_s=120.0)
    while clock[0] < 400 and not call.hung:
        second = int(clock[0]) % 50
        state["held"] = second != 49  # off hold for one second in every fifty
        state["packets"] += 0 if state["held"] else 50
        watch.check([call])
        clock[0] += 1.0
    assert call.hung and call.hung[0] < 140, call.hung


def _torture_invite(port: int, *, cseq: str = "1 INVITE", lengths: tuple[str, ...] | None = None,
                    require: str | None = None, cut: int = 0, source: str = "127.0.0.1") -> str:
    """An INVITE with a valid SDP offer, changed the way an RFC 4475 torture message is; the final answer."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((source, 0))
        s.settimeout(1.0)
        lport = s.getsockname()[1]
        sdp = (f"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               f"m=audio {lport + 2} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")
        body = sdp[:len(sdp) - cut]
        length_lines = "".join(f"Content-Length: {n}\r\n" for n in (lengths or (str(len(sdp)),)))
        msg = (f"INVITE sip:95588@127.0.0.1:{port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP {source}:{lport};branch=z9hG4bK{time.time_ns()}\r\nMax-Forwards: 70\r\n"
               f"From: <sip:13811112222@{source}>;tag=t1\r\nTo: <sip:95588@127.0.0.1>\r\n"
               f"Call-ID: torture-{time.time_ns()}@{source}\r\nCSeq: {cseq}\r\n"
               f"Contact: <sip:x@{source}:{lport}>\r\nContent-Type: application/sdp\r\n"
               f"{f'Require: {require}' + chr(13) + chr(10) if require else ''}{length_lines}\r\n{body}")
        s.sendto(msg.encode(), ("127.0.0.1", port))
        end, final = time.monotonic() + 5, "no answer"
        while time.monotonic() < end:
            try:
                answer = s.recv(65535).decode(errors="replace")
            except TimeoutError:
                continue
            status = answer.split("\r\n", 1)[0]
            if not status.startswith(("SIP/2.0 1",)):
                final = status + ("" if "Unsupported:" not in answer else " | " + next(
                    line for line in answer.split("\r\n") if line.startswith("Unsupported:")))
                break
        if final.startswith("SIP/2.0 200"):  # a call was set up after all: end it
            s.sendto(msg.replace("INVITE sip", "BYE sip", 1).replace("1 INVITE", "2 BYE").encode(),
                     ("127.0.0.1", port))
        return final


def test_the_front_door_lets_no_malformed_invite_become_a_call(door) -> None:
    """RFC 4475-style INVITEs through the cluster: Kamailio's sanity check or the worker refuses each."""
    port = door["cluster"].port
    answers = {
        "length over the body": _torture_invite(port, lengths=("400",), source="127.0.0.6"),
        "method not the CSeq's": _torture_invite(port, cseq="1 OPTIONS", source="127.0.0.6"),
        "unknown Require": _torture_invite(port, require="nothingyet", source="127.0.0.6"),
        "two Content-Lengths": _torture_invite(port, lengths=("156", "0"), source="127.0.0.6"),
    }
    assert not any(a.startswith("SIP/2.0 2") for a in answers.values()), answers
    assert answers["unknown Require"].startswith("SIP/2.0 420"), answers


def test_a_lone_worker_refuses_malformed_invites_as_the_rfc_says(tmp_path: Path, demo_db_template: Path) -> None:
    """Before: the worker answered 200 to four RFC 4475-style INVITEs that are invalid."""
    from tests.sip import start_worker

    shutil.copy(demo_db_template, tmp_path / "bank.db")
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'bank.db'}", (free_port(), free_port()), nlu="keywords")
    worker = start_worker(tmp_path, config)
    try:
        answers = {
            "length over the body": _torture_invite(worker.port, lengths=("400",)),
            "body cut short": _torture_invite(worker.port, cut=20),
            "method not the CSeq's": _torture_invite(worker.port, cseq="1 OPTIONS"),
            "unknown Require": _torture_invite(worker.port, require="nothingyet"),
            "two Content-Lengths": _torture_invite(worker.port, lengths=("156", "0")),
        }
        well_formed = _torture_invite(worker.port)
    finally:
        code = worker.stop()
    assert answers["length over the body"].startswith("SIP/2.0 400"), answers
    assert answers["body cut short"].startswith("SIP/2.0 400"), answers
    # pjsip refuses this one itself, before the worker sees it (500); the front door's sanity check answers first
    assert answers["method not the CSeq's"].startswith(("SIP/2.0 400", "SIP/2.0 500")), answers
    assert answers["unknown Require"].startswith("SIP/2.0 420") and "nothingyet" in answers["unknown Require"], answers
    assert answers["two Content-Lengths"].startswith("SIP/2.0 400"), answers
    assert not well_formed.startswith(("SIP/2.0 4", "SIP/2.0 5")), well_formed  # still answered as a call
    assert code == 0, worker.stderr_tail()
