"""What `voicebot nlu test` counts: what the dialog would do with each turn, wrong actions apart."""

from __future__ import annotations

from voicebot.catalogue import catalogue
from voicebot.dialog.context import DialogSettings
from voicebot.nlu.data import Example
from voicebot.nlu.outside import NOT_A_SERVICE, score
from voicebot.nlu.parser import NluResult
from voicebot.nlu.routing import route

READINGS = {  # what a stand-in classifier reads each turn as
    "what's my balance": ("account.balance", 0.99),
    "freeze my account": ("account.balance", 0.97),  # sure and wrong: the figure to drive down
    "i need some help with my card": ("agent", 0.95),
    "hello": ("greet", 0.99),
    "what does my house sell for": ("account.balance", 0.9),
    "rate the airport": ("out_of_scope", 0.8),
    "can a person help me with my rent": ("agent", 0.9),  # nothing we offer, but a person may help
}


class StandIn:
    def parse(self, text: str, lang: str) -> NluResult:
        intent, confidence = READINGS[text]
        return NluResult(text, intent, confidence, route(intent, confidence, DialogSettings()),
                         ranking=((intent, confidence),))


def test_each_turn_is_counted_by_what_the_dialog_would_do() -> None:
    expected = [("what's my balance", "account.balance"), ("freeze my account", "card.report_loss"),
                ("i need some help with my card", "card.report_loss"), ("hello", "greet"),
                ("what does my house sell for", "out_of_scope"), ("rate the airport", "out_of_scope"),
                ("can a person help me with my rent", "out_of_scope")]
    examples = [Example(text, intent, "stand-in") for text, intent in expected]
    scores = score(StandIn(), "en-US", examples, catalogue(), DialogSettings())
    loss, none = scores.counts["card.report_loss"], scores.counts[NOT_A_SERVICE]
    assert (scores.counts["account.balance"]["acted"], loss["wrong"], loss["handed"]) == (1, 1, 1)
    assert (none["total"], none["kept"], none["handed"], none["wrong"]) == (4, 2, 1, 1)
    summary = scores.summary()
    assert "3 requests for a service: acted right 33.3%, wrong action 33.3%" in summary
    assert "handed over 33.3%" in summary
    assert "4 turns asking for no service: kept out 50.0%, handed over 25.0%, wrong action 25.0%" in summary
    assert scores.rates() == (1 / 3, 2 / 7)  # acted right of 3 requests; wrong of all 7 turns
