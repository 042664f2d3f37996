"""A caller asking for something the line does not offer hears so, what it does offer and how to
reach an agent; nothing they were doing is lost. (With the real models: test_repair.)"""

from __future__ import annotations

import pytest

from tests.calls import Call
from voicebot.bank.bank import Bank
from voicebot.catalogue import catalogue
from voicebot.dialog.menus import out_of_scope_text
from voicebot.dialog.repair import EXAMPLE_REQUESTS
from voicebot.nlu.keywords import KeywordParser
from voicebot.nlu.parser import NluResult
from voicebot.telephony import screen_pop

EVERYDAY = {"what's the weather tomorrow": 0.86, "明天天气怎么样": 0.86, "play some jazz": 0.35}


class Everyday(KeywordParser):
    """The keyword parser, but sure (or, for 'play some jazz', unsure) that these are out of scope."""

    def parse(self, text: str, lang: str) -> NluResult:
        if text in EVERYDAY:
            confidence = EVERYDAY[text]
            return NluResult(text, "out_of_scope", confidence, ranking=(("out_of_scope", confidence),
                                                                  ("account.balance", 1 - confidence)))
        return super().parse(text, lang)


@pytest.mark.parametrize(("lang", "said", "agent"), [("en-US", "what's the weather tomorrow", "agent"),
                                                     ("zh-CN", "明天天气怎么样", "人工服务")])
def test_a_request_the_line_does_not_offer_is_told_what_it_does(bank: Bank, lang: str, said: str,
                                                                 agent: str) -> None:
    c = Call(bank, nlu=Everyday(), lang=lang)
    c.say(said)
    assert c.said == out_of_scope_text(catalogue(), lang) and c.expecting == "menu"
    assert not c.services() and not c.transfers()
    for family in ("card services", "foreign exchange") if lang == "en-US" else ("信用卡及银行卡服务", "外汇业务"):
        assert family in c.said
    assert agent in c.said
    c.say(agent)  # the way out it was told of: the agent service asks what about
    assert c.engine.service is not None and c.engine.service.id == "agent", c.said
    c.keys("2")  # questions about our services
    assert [t.reason for t in c.transfers()] == ["consult"]


def test_mid_service_it_is_said_and_the_step_asked_again(bank: Bank) -> None:
    c = Call(bank, nlu=Everyday())
    c.at_transfer_amount()
    c.say("what's the weather tomorrow")
    assert c.said.startswith(out_of_scope_text(catalogue(), "en-US")) and c.expecting == "amount"
    assert "amount" in c.said.removeprefix(out_of_scope_text(catalogue(), "en-US"))
    c.keys("100#")
    assert c.expecting == "confirm"


def test_an_unsure_one_gets_examples_then_the_keypad(bank: Bank) -> None:
    c = Call(bank, nlu=Everyday())
    c.say("play some jazz")
    assert "didn't catch" in c.said and "can help with" not in c.said
    assert EXAMPLE_REQUESTS["en-US"][0] in c.said and "1" not in c.said
    c.say("play some jazz")
    assert "keypad" in c.said and "1" in c.said  # the rule of two failures holds


def test_asked_three_times_it_goes_to_an_agent_with_that_reason(bank: Bank) -> None:
    c = Call(bank, nlu=Everyday())
    for _ in range(3):
        c.say("what's the weather tomorrow")
    [transfer] = c.transfers()
    assert transfer.reason.startswith("out_of_scope:")
    assert screen_pop.reason_text(c.engine, transfer.reason).startswith("asked for what the line does not offer")
