"""The request inside a longer turn: past a greeting or hesitation, after a story (no NLU model needed)."""

from __future__ import annotations

import pytest

from voicebot.nlu.openings import request_part
from voicebot.nlu.parser import NluResult
from voicebot.nlu.request_clause import prefer_request, request_clause


@pytest.mark.parametrize(("lang", "said", "asked"), [
    ("en-US", "hi, yes, good morning, I just wanted to see how much money I've got",
     "I just wanted to see how much money I've got"),
    ("en-US", "well hello there could you block my card", "could you block my card"),
    ("en-US", "um yes my balance please", "my balance please"),
    ("en-US", "hello", "hello"),  # all greeting: answered as one
    ("en-US", "yes hello", "yes hello"),
    ("en-US", "yes i do", "yes i do"),  # a lone yes is an answer, not an opening
    ("en-US", "okay transfer it", "okay transfer it"),
    ("en-US", "history please", "history please"),  # 'hi' opens only as a word
    ("zh-CN", "喂，你好，我想查一下余额", "我想查一下余额"),
    ("zh-CN", "喂你好我要挂失", "我要挂失"),
    ("zh-CN", "你好 我想问一下 信用卡还款", "信用卡还款"),
    ("zh-CN", "您好", "您好"),
    ("zh-CN", "嗯额度多少", "嗯额度多少"),  # 额 opens 额度 (credit limit): not a hesitation without a pause
    ("zh-CN", "嗯，对账单", "对账单"),
    ("zh-CN", "对，我要转账", "对，我要转账"),
])
def test_the_opening_is_taken_off(lang: str, said: str, asked: str) -> None:
    assert request_part(said, lang) == asked


@pytest.mark.parametrize(("lang", "said", "clause"), [
    ("en-US", "i was at the shop yesterday and my card got declined what's my balance", "what's my balance"),
    ("en-US", "my card was declined at the shop can you check my balance", "can you check my balance"),
    ("en-US", "what's my balance", None),  # no story before it
    ("en-US", "i lost my wallet on the train this morning", None),  # no request
    ("zh-CN", "我昨天在超市刷卡没刷成功，帮我查一下余额", "帮我查一下余额"),
    ("zh-CN", "帮我查一下余额", None),
])
def test_a_request_after_a_story_is_found(lang: str, said: str, clause: str | None) -> None:
    assert request_clause(said, lang) == clause


def _read(text: str, intent: str, confidence: float, acted: bool) -> NluResult:
    return NluResult(text, intent, confidence, intent if acted and "." in intent else None)


def test_the_request_wins_over_a_story_of_another_family_only() -> None:
    whole = _read("my card got declined what's my balance", "card.report_loss", 0.86, True)
    balance = _read("what's my balance", "account.balance", 0.95, True)
    assert prefer_request(whole, balance) is balance
    unsure = _read("what's my balance", "account.balance", 0.8, True)
    assert prefer_request(whole, unsure) is whole  # the request alone is not sure enough
    remote = _read("my daughter studies in another city and i need to send her money", "transfer.remote", 0.96, True)
    local = _read("i need to send her money", "transfer.local", 0.9, True)
    assert prefer_request(remote, local) is remote  # one family: the story's details stand


def test_a_vague_request_after_a_story_leaves_the_story_s_reading() -> None:
    whole = _read("my card is lost please help me", "card.report_loss", 0.8, True)
    assert prefer_request(whole, _read("please help me", "agent", 0.7, True)) is whole
