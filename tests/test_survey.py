"""The caller's survey after an agent conversation: asked once, 1-5 by key or word in either
language, skippable by '#', a word or silence (never a way back to an agent), into the CDR."""

from __future__ import annotations

import pytest

from voicebot.bank.bank import Bank
from voicebot.cdr import cdr_line, row_of
from voicebot.dialog.actions import Hangup, Say
from voicebot.dialog.context import DialogSettings
from voicebot.dialog.engine import DialogEngine
from voicebot.dialog.events import Event, Keys, NoInput, Speech
from voicebot.dialog.survey import agent_finished
from voicebot.nlu.keywords import KeywordParser


def after_agent(bank: Bank, lang: str = "en-US", **settings: object) -> tuple[DialogEngine, list]:
    engine = DialogEngine(bank, KeywordParser(), lang=lang, settings=DialogSettings(**settings))
    engine.start()
    engine.handle(Keys("0"))
    engine.handle(Keys("1"))  # the agent menu's first reason: put through
    assert engine.ended and engine.record.outcome == "transferred"
    return engine, agent_finished(engine)


@pytest.mark.parametrize(("lang", "answer", "score"), [
    ("en-US", Keys("4"), 4), ("en-US", Speech("five", 0.9), 5), ("en-US", Speech("it was poor", 0.9), 1),
    ("zh-CN", Keys("3"), 3), ("zh-CN", Speech("非常满意", 0.9), 5), ("zh-CN", Speech("四分", 0.9), 4),
])
def test_a_rating_by_key_or_word_goes_into_the_cdr(bank: Bank, lang: str, answer: Event, score: int) -> None:
    engine, asked = after_agent(bank, lang)
    assert any(isinstance(a, Say) and ("1" in a.text and "5" in a.text) for a in asked)
    out = engine.handle(answer)
    assert isinstance(out[-1], Hangup) and engine.ended
    record = engine.close()
    assert record.survey_score == score and record.outcome == "transferred"
    assert row_of(cdr_line(record))["survey_score"] == score


@pytest.mark.parametrize("answer", [Keys("#"), Speech("skip", 0.9), NoInput(), Speech("mumble mumble", 0.9)])
def test_skipping_or_silence_ends_the_call_without_a_score_or_an_agent(bank: Bank, answer: Event) -> None:
    engine, _ = after_agent(bank)
    out = engine.handle(answer)
    if not engine.ended:  # a word that is no rating is asked once more, then the call ends
        out = engine.handle(NoInput())
    assert isinstance(out[-1], Hangup), out
    record = engine.close()
    assert record.survey_score is None and record.outcome == "transferred"
    assert "survey_score" in record.to_json() and record.to_json()["survey_score"] is None


def test_the_survey_is_asked_once_and_can_be_switched_off(bank: Bank) -> None:
    engine, asked = after_agent(bank)
    engine.handle(Keys("2"))
    assert asked and agent_finished(engine) == []
    engine, asked = after_agent(bank, survey=False)
    assert asked == [] and "survey_score" not in engine.close().to_json()
