"""A banking matter no service of the line answers ("my card keeps getting declined", "转账一直没到")
goes to an agent for questions about our services, never to a service that happens to share its
words; at a step of a service it interrupts nothing. (The decision rules on made-up rankings and
real-model conversations: test_repair; the outside figures: test_nlu_rasa.)"""

from __future__ import annotations

import pytest

from tests.calls import Call
from voicebot.bank.bank import Bank
from voicebot.catalogue import AGENT_REASONS, Catalogue, Intent, catalogue
from voicebot.catalogue.services import GROUPS, INTENTS, SERVICES
from voicebot.nlu.keywords import KeywordParser
from voicebot.nlu.parser import NluResult

RANKINGS = {
    "my card keeps getting declined": (("banking_other", 0.86), ("card.report_loss", 0.1)),
    "刷卡总是失败": (("banking_other", 0.9), ("card.report_loss", 0.05)),
    "my card doesn't work": (("banking_other", 0.42), ("card.report_loss", 0.3)),  # unsure
    # the loss report leads, but a third of the belief says it is an agent's matter
    "my card keeps getting refused at every till": (("card.report_loss", 0.6), ("banking_other", 0.35)),
    # a sure replacement: the loss report, second and named by the entry menu's key 3, is not taken
    "the machine rejected my card": (("card.replace", 0.76), ("card.report_loss", 0.21)),
}


class Stub(KeywordParser):
    """The keyword parser, but with these rankings for these turns."""

    def parse(self, text: str, lang: str) -> NluResult:
        if text in RANKINGS:
            ranking = RANKINGS[text]
            return NluResult(text, ranking[0][0], ranking[0][1], ranking=ranking)
        return super().parse(text, lang)


@pytest.mark.parametrize(("lang", "said", "heard"), [
    ("en-US", "my card keeps getting declined", "Connecting you to an agent for questions about our services"),
    ("zh-CN", "刷卡总是失败", "正在为您转接人工服务：业务咨询"),
])
def test_a_banking_matter_without_a_service_goes_to_an_agent(bank: Bank, lang: str, said: str, heard: str) -> None:
    c = Call(bank, nlu=Stub(), lang=lang)
    c.say(said)
    assert heard in c.said
    assert [t.reason for t in c.transfers()] == ["consult"]
    assert [(s.id, s.status) for s in c.services()] == [("agent", "ok")]


def test_unsure_it_is_asked_again_not_handed_over(bank: Bank) -> None:
    c = Call(bank, nlu=Stub())
    c.say("my card doesn't work")
    assert not c.transfers() and not c.services() and c.expecting == "menu"


def test_a_service_in_doubt_is_asked_about_even_where_a_key_names_it(bank: Bank) -> None:
    c = Call(bank, nlu=Stub())
    c.say("my card keeps getting refused at every till")
    assert not c.services() and not c.transfers()
    assert "Did you mean reporting a lost or stolen card?" in c.said


def test_the_first_guess_wins_over_a_second_the_menu_names(bank: Bank) -> None:
    c = Call(bank, nlu=Stub())
    c.say("the machine rejected my card")
    assert c.engine.service is not None and c.engine.service.id == "card.replace", c.said


def test_mid_service_it_interrupts_nothing(bank: Bank) -> None:
    c = Call(bank, nlu=Stub())
    c.at_transfer_amount()
    c.say("my card keeps getting declined")
    assert not c.transfers() and c.expecting == "amount"
    c.keys("100#")
    assert c.expecting == "confirm"


def test_the_catalogue_names_the_reason_it_hands_over_with() -> None:
    assert catalogue().hands_over("banking_other").id == "consult"
    assert catalogue().hands_over("out_of_scope") is None and catalogue().hands_over("no such intent") is None
    wrong = (*INTENTS, Intent("elsewhere", {"en-US": (), "zh-CN": ()}, hands_over="no such reason"))
    with pytest.raises(ValueError, match="unknown reason"):
        Catalogue(SERVICES, GROUPS, wrong, AGENT_REASONS)
