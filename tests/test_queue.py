"""Waiting in the agent queue, as the dialog has it: the place and wait in the caller's language,
news at intervals, 1 for a call-back at any time (another key or silence: go on waiting), and
an agent answering closes the step. (tests/test_sip.py queues a real caller behind busy seats.)"""

from __future__ import annotations

import pytest

from voicebot.bank.bank import Bank
from voicebot.dialog import queue
from voicebot.dialog.actions import Hangup, Say
from voicebot.dialog.engine import DialogEngine
from voicebot.dialog.events import Keys, NoInput
from voicebot.nlu.keywords import KeywordParser


def handed_over(bank: Bank, lang: str = "en-US") -> DialogEngine:
    engine = DialogEngine(bank, KeywordParser(), lang=lang)
    engine.start()
    engine.handle(Keys("0"))
    engine.handle(Keys("1"))
    assert engine.ended and engine.record.outcome == "transferred"
    return engine


def said(actions: list) -> str:
    return " ".join(a.text for a in actions if isinstance(a, Say))


@pytest.mark.parametrize(("lang", "place", "wait_s", "expected"), [
    ("en-US", 1, 50, "You are number 1 in the queue. The wait is about one minute."),
    ("en-US", 3, 360, "You are number 3 in the queue. The wait is about 6 minutes."),
    ("zh-CN", 2, 250, "您目前排在第2位，预计等待约四分钟。"),
])
def test_joining_says_the_place_and_the_wait(bank: Bank, lang: str, place: int, wait_s: float, expected: str) -> None:
    engine = handed_over(bank, lang)
    joined = said(queue.queue_joined(engine, place, wait_s))
    assert expected in joined and queue.in_queue(engine)
    assert ("1" in joined.split(expected)[1])  # then how to ask for a call-back


def test_other_keys_and_silence_go_on_waiting_and_1_books_a_call_back(bank: Bank) -> None:
    engine = handed_over(bank)
    queue.queue_joined(engine, 1, 60)
    for event in (Keys("5"), NoInput(), NoInput(), NoInput(), Keys("*")):
        engine.handle(event)
        assert queue.in_queue(engine), event  # never handed to an agent for want of an answer
    news = said(queue.queue_news(engine, 1, 30, offer_again=True))
    assert "number 1" in news and "press 1" in news
    out = engine.handle(Keys("1"))
    assert isinstance(out[-1], Hangup) and "call you back" in said(out)
    record = engine.close()
    assert record.callback_requested is True and record.queue_outcome == "callback" and record.queue_place == 1
    assert record.outcome == "failed"


def test_an_agent_answering_closes_the_queue_step(bank: Bank) -> None:
    engine = handed_over(bank)
    queue.queue_joined(engine, 2, 200)
    queue.queue_answered(engine)
    assert engine.ended and not queue.in_queue(engine)
    assert queue.queue_news(engine, 1, 10) == [] and engine.close().outcome == "transferred"


def test_only_a_handed_over_call_joins_once(bank: Bank) -> None:
    engine = DialogEngine(bank, KeywordParser())
    engine.start()
    assert queue.queue_joined(engine, 1, 60) == []  # not handed over
    engine = handed_over(bank)
    assert queue.queue_joined(engine, 1, 60)
    engine.handle(Keys("1"))
    assert queue.queue_joined(engine, 1, 60) == []  # its queue is over
