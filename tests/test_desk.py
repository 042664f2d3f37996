"""The agent desk's pool logic and the screen pop's context, without SIP or a browser
(those are in test_console.py): who is offered a call, who gets it, what the agent may read."""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest

from tests.calls import DEMO_CARD, DEMO_PIN
from voicebot.bank.bank import Bank
from voicebot.bank.db import make_engine
from voicebot.console.desk import Desk, pool_addresses
from voicebot.dialog.engine import DialogEngine
from voicebot.dialog.events import Keys, Speech
from voicebot.telephony import screen_pop
from voicebot.telephony.agents import AgentDirectory


class FakeSeat:
    def __init__(self, pools: dict[str, str]) -> None:
        self.pools, self.address, self.sent = pools, "127.0.0.1:5070", []

    def send(self, cmd: dict[str, Any]) -> None:
        self.sent.append(cmd)


# what the worker saved, by token (SeatProcess reads it from the database; here the test hands it over)
SAVED = {"tok": {"reason_text": "complaints and suggestions", "transcript": [{"who": "caller", "text": "hi"}]}}


@pytest.fixture
def desk():
    seat = FakeSeat({"agents-010": "010", "agents-central": "central"})
    inbox: dict[str, list[dict[str, Any]]] = {}
    d = Desk(["010", "central"], lambda name, msg: inbox.setdefault(name, []).append(msg))
    return d, seat, inbox


def ring(d: Desk, seat: FakeSeat, call: str = "c1", to: str = "agents-010", context: str = "verified",
         token: str = "tok") -> None:
    d.seat_event(seat, {"event": "incoming", "call_id": call, "to": to, "context": context,
                        "headers": {"X-Voicebot-Reason": "complaint", "X-Voicebot-Context": token},
                        **({"saved": SAVED.get(token)} if context == "verified" else {})})


def kinds(inbox: dict[str, list[dict[str, Any]]], name: str) -> list[str]:
    return [m["type"] for m in inbox.get(name, []) if m["type"] != "state"]


def test_a_call_is_offered_to_the_available_agents_of_its_pool_and_the_first_to_accept_takes_it(desk) -> None:
    d, seat, inbox = desk
    d.set_status("ann", "010", True)
    d.set_status("bob", "010", True)
    d.set_status("cai", "central", True)
    ring(d, seat)
    assert kinds(inbox, "ann") == ["offer"] and kinds(inbox, "bob") == ["offer"] and kinds(inbox, "cai") == []
    offer = next(m for m in inbox["ann"] if m["type"] == "offer")
    assert offer["reason_text"] == "complaints and suggestions" and offer["transcript"][0]["text"] == "hi"
    d.accept("bob", "c1")
    d.accept("ann", "c1")  # too late
    assert seat.sent == [{"do": "accept", "call": "c1"}]
    assert kinds(inbox, "ann")[-1] == "withdrawn"
    d.seat_event(seat, {"event": "answered", "call": "c1"})
    assert kinds(inbox, "bob")[-1] == "connected" and d.agents["bob"].call == "c1"
    assert d.stats["010"].to_json()["answer_rate"] == 100
    d.hang_up("ann", "c1")  # not hers to end
    d.hang_up("bob", "c1")
    assert seat.sent[-1] == {"do": "hangup", "call": "c1"}
    d.seat_event(seat, {"event": "ended", "call": "c1"})
    assert kinds(inbox, "bob")[-1] == "ended" and d.agents["bob"].call is None


def test_nobody_available_or_everyone_declining_sends_the_call_on_at_once(desk) -> None:
    d, seat, inbox = desk
    ring(d, seat, "c1")
    assert seat.sent == [{"do": "decline", "call": "c1", "status": 480}]  # nobody there: the bot overflows now
    d.set_status("ann", "010", True)
    d.set_status("bob", "010", True)
    ring(d, seat, "c2")
    d.decline("ann", "c2")
    assert len(seat.sent) == 1  # bob may still take it
    d.set_status("bob", "010", False)  # going away declines what rings for you
    assert seat.sent[-1] == {"do": "decline", "call": "c2", "status": 486}
    assert d.stats["010"].to_json() == {"offered": 2, "answered": 0, "answer_rate": 0, "median_answer_s": None}


def test_an_agent_who_becomes_available_gets_the_call_already_ringing(desk) -> None:
    d, seat, inbox = desk
    d.set_status("ann", "010", True)
    ring(d, seat)
    d.set_status("bob", "010", True)
    assert kinds(inbox, "bob") == ["offer"]
    d.seat_event(seat, {"event": "ended", "call": "c1"})  # the bot overflowed after 3 rings, or the caller left
    assert kinds(inbox, "ann")[-1] == "withdrawn" and kinds(inbox, "bob")[-1] == "withdrawn"


def test_a_forged_context_pops_a_warning_not_the_saved_conversation(desk) -> None:
    d, seat, inbox = desk
    d.set_status("ann", "010", True)
    ring(d, seat, context="forged")
    offer = next(m for m in inbox["ann"] if m["type"] == "offer")
    assert "warning" in offer and "transcript" not in offer and "reason" not in offer


def test_an_unsigned_context_never_shows_a_saved_conversation(desk) -> None:
    """Even handed a saved context, the desk shows it only for headers whose signature held."""
    d, seat, inbox = desk
    d.set_status("ann", "010", True)
    d.seat_event(seat, {"event": "incoming", "call_id": "c1", "to": "agents-010", "context": "unsigned",
                        "headers": {"X-Voicebot-Reason": "complaint", "X-Voicebot-Context": "tok"},
                        "saved": SAVED["tok"]})
    offer = next(m for m in inbox["ann"] if m["type"] == "offer")
    assert "transcript" not in offer and offer["trust"] == "unsigned"


def test_headers_signed_for_another_pool_count_as_forged() -> None:
    from voicebot.console.desk import bound_to_pool

    pools = {"agents-010": "010", "agents-central": "central"}
    replayed = {"to": "agents-central", "context": "verified", "headers": {"X-Voicebot-Pool": "010"}}
    assert bound_to_pool(replayed, pools) == "central" and replayed["context"] == "forged"
    right = {"to": "agents-010", "context": "verified", "headers": {"X-Voicebot-Pool": "010"}}
    assert bound_to_pool(right, pools) == "010" and right["context"] == "verified"
    unsigned = {"to": "agents-010", "context": "unsigned", "headers": {}}
    assert bound_to_pool(unsigned, pools) == "010" and unsigned["context"] == "unsigned"


def test_an_agent_works_only_in_their_pools_and_sees_only_their_pops(desk) -> None:
    """Before: any agent could join any pool and so see every region's screen pops."""
    d, seat, inbox = desk
    d.assign("ann", frozenset({"010"}))
    d.set_status("ann", "central", True)  # not hers: refused
    assert d.agents["ann"].available is False
    assert [m for m in inbox["ann"] if m["type"] == "state"][-1]["pools"] == ["010"]
    ring(d, seat, to="agents-central")
    assert kinds(inbox, "ann") == []
    d.set_status("ann", "010", True)
    assert d.agents["ann"].available is True
    d.assign("ann", frozenset({"central"}))  # reassigned while available: she leaves 010 at once
    assert d.agents["ann"].available is False and d.agents["ann"].pool is None


def test_a_call_for_an_address_that_is_no_pool_is_refused(desk) -> None:
    d, seat, _ = desk
    ring(d, seat, to="someone-else")
    assert seat.sent == [{"do": "decline", "call": "c1", "status": 404}]


def test_the_desk_answers_each_pool_address_of_the_configuration() -> None:
    directory = AgentDirectory.from_config({
        "central": "sip:agents-central@127.0.0.1:5070",
        "regions": {"010": {"uri": "sip:agents-010@127.0.0.1:5070"}, "021": {"uri": "sip:desk@10.0.0.9"},
                    "852": {"hosted_centrally": True}}}, "sip:agents-{region}@127.0.0.1")
    assert pool_addresses(directory) == {("127.0.0.1", 5070): {"agents-central": "central", "agents-010": "010"},
                                         ("10.0.0.9", 5060): {"desk": "021"}}


def test_the_screen_pop_has_the_conversation_but_never_the_pin_or_the_whole_card(demo_db_template, tmp_path) -> None:
    shutil.copy(demo_db_template, tmp_path / "bank.db")
    db = make_engine(f"sqlite:///{tmp_path / 'bank.db'}")
    engine = DialogEngine(Bank(db))
    engine.start()
    for event in (Keys("1"), Keys("1"), Keys("1"), Keys(f"{DEMO_CARD}#"), Speech(DEMO_PIN), Keys(DEMO_PIN),
                  Keys("0"), Keys("3")):
        engine.handle(event)
    body = screen_pop.context_of(engine, "complaint")
    token = screen_pop.save(db, body, pool="010", call_id="call-1")
    loaded = screen_pop.take(db, token, pool="010", call_id="call-1")
    text = json.dumps(loaded, ensure_ascii=False)
    assert DEMO_PIN not in text and DEMO_CARD not in text
    assert loaded["customer"].endswith("0001") and loaded["verified"] is True
    assert loaded["reason_text"] == "complaints and suggestions" and loaded["services_text"] == ["balance enquiry"]
    said = [line["text"] for line in loaded["transcript"]]
    assert "(words withheld: PIN step)" in said and "keys withheld (PIN step)" in said and "keys 3" in said
    assert screen_pop.take(db, "not-a-token", pool="010", call_id="call-1") is None
    assert screen_pop.take(db, "x" * 500, pool="010", call_id="call-1") is None
    db.dispose()


def test_a_screen_pop_is_taken_once_for_its_pool_and_call_within_the_signatures_life(demo_db_template,
                                                                                      tmp_path) -> None:
    """A token seen on the wire pops nothing a second time, nor for another pool or call, nor late."""
    from datetime import datetime, timedelta

    from sqlalchemy import update

    from voicebot.bank.schema import HandoverContext
    from voicebot.telephony.agent_context import VALID_S

    shutil.copy(demo_db_template, tmp_path / "bank.db")
    db = make_engine(f"sqlite:///{tmp_path / 'bank.db'}")
    body = {"reason_text": "complaints", "transcript": []}
    token = screen_pop.save(db, body, pool="010", call_id="call-1")
    assert screen_pop.take(db, token, pool="010", call_id="call-1") == body
    assert screen_pop.take(db, token, pool="010", call_id="call-1") is None  # once
    for pool, call in (("central", "call-1"), ("010", "call-2")):
        other = screen_pop.save(db, body, pool="010", call_id="call-1")
        assert screen_pop.take(db, other, pool=pool, call_id=call) is None
    late = screen_pop.save(db, body, pool="010", call_id="call-1")
    with db.begin() as conn:
        conn.execute(update(HandoverContext).where(HandoverContext.token == late)
                     .values(created_at=datetime.now() - timedelta(seconds=VALID_S + 5)))
    assert screen_pop.take(db, late, pool="010", call_id="call-1") is None
    db.dispose()


def test_reasons_the_bot_hands_over_for_itself_are_put_in_words(demo_db_template) -> None:
    engine = DialogEngine(Bank(make_engine(f"sqlite:///{demo_db_template}")))
    assert screen_pop.reason_text(engine, "no_match:card_number") == "not understood three times (at card number)"
    assert screen_pop.reason_text(engine, "pin_locked") == "PIN locked after wrong attempts"
