"""Rules every path obeys: PIN secrecy and lock-out, confirmation, failures, repeat/back, fallback."""

from __future__ import annotations

import json
import logging

import pytest

from tests.calls import CORP_ACCOUNT, CORP_PIN, DEMO_CARD, DEMO_PIN, MOTHER_CARD, Call
from voicebot.bank.bank import Bank
from voicebot.bank.db import make_engine
from voicebot.cdr import cdr_line
from voicebot.dialog.actions import Say
from voicebot.nlu.parser import NluResult, NluUnavailable


def cny(bank: Bank, card: str = DEMO_CARD, pin: str = DEMO_PIN) -> int:
    customer = bank.authenticate(card, pin).customer_id
    return next(a.balance_minor for a in bank.accounts(customer) if a.currency == "CNY")


def to_transfer_amount(c: Call) -> None:
    """Personal menu -> transfers -> same city -> log in -> payee 'mother'."""
    c.path("121")
    c.login()
    c.keys("1")
    assert c.expecting == "amount"


# -- PINs -----------------------------------------------------------------------------------
def test_three_wrong_pins_lock_and_go_to_an_agent(call, bank: Bank) -> None:
    c = call()
    c.path("111")
    for attempt in range(3):
        c.keys(DEMO_CARD + "#")
        c.keys(f"00000{attempt}")
    [transfer] = c.transfers()
    assert transfer.reason == "pin_locked" and c.engine.ended
    assert "locked" in c.said
    again = call()
    again.path("111")
    again.login()
    assert again.transfers()[0].reason == "pin_locked"


def test_wrong_pins_for_an_unknown_card_sound_like_a_real_ones(call) -> None:
    """Before: "N more tries" was said only for real cards, an oracle for which card numbers exist."""
    heard = []
    for number in (DEMO_CARD, "6222029999999999"):
        c = call()
        c.path("111")
        for attempt in range(3):
            c.keys(number + "#")
            c.keys(f"00000{attempt}")
        heard.append(c.transcript.replace(" ".join(number), "<card>").replace(number, "<card>"))
        assert c.engine.ended and c.transfers()
    assert heard[0] == heard[1], heard
    assert "2 more tries" in heard[1] or "two more tries" in heard[1].lower()


def test_pin_never_appears_in_actions_logs_or_cdr(call, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    c = call()
    c.path("111")
    c.keys(DEMO_CARD + "#")
    c.say("my pin is one three five seven nine zero 135790")  # spoken PIN: refused, never parsed
    assert "keypad" in c.said and c.expecting == "pin"
    c.keys(DEMO_PIN)
    c.hangup()
    record = c.engine.close()
    everything = json.dumps([a.to_json() for a in c.actions]) + caplog.text + cdr_line(record)
    for secret in (DEMO_PIN, "one three five seven nine zero"):
        assert secret not in everything
    assert DEMO_CARD not in caplog.text and DEMO_CARD not in everything
    assert "0001" in caplog.text  # masked, not dropped


def test_spoken_pin_is_not_recorded_as_an_intent(call) -> None:
    c = call()
    c.path("111")
    c.keys(DEMO_CARD + "#")
    c.say("one three five seven nine zero")
    assert c.engine.record.intents == []


# -- money safety ----------------------------------------------------------------------------
def test_confirmed_transfer_reads_back_and_moves(call, bank: Bank) -> None:
    c = call()
    to_transfer_amount(c)
    c.keys("500#")
    assert c.expecting == "confirm"
    assert "500.00 yuan" in c.said and "mother" in c.said and "0 0 0 3" in c.said
    c.keys("1")
    assert c.services("ok")[0].id == "transfer.local"
    assert cny(bank) == 1_234_567 - 50_000


def test_refused_confirmation_moves_nothing(call, bank: Bank) -> None:
    c = call()
    to_transfer_amount(c)
    c.keys("500#")
    c.say("no")
    assert c.services()[0].status == "cancelled"
    assert cny(bank) == 1_234_567 and cny(bank, MOTHER_CARD, "112233") == 300_000


def test_two_calls_sharing_a_sip_call_id_each_move_their_own_money(call, bank: Bank) -> None:
    """Idempotency keys are the server's: a Call-ID a caller chose (reused, or 300 characters long)
    neither merges two calls' payments nor overflows the key column."""
    for call_id in ("reused-call-id", "reused-call-id", "x" * 300):
        c = call(call_id=call_id)
        to_transfer_amount(c)
        c.keys("500#")
        c.keys("1")
        [done] = c.services("ok")
        assert done.details["replayed"] is False
    assert cny(bank) == 1_234_567 - 3 * 50_000


def test_double_pressed_confirmation_moves_once(call, bank: Bank) -> None:
    c = call()
    to_transfer_amount(c)
    c.keys("500#")
    c.keys("11")  # the second 1 lands on "anything else" -> main menu, not a second transfer
    assert len(c.services("ok")) == 1
    assert cny(bank) == 1_234_567 - 50_000


def test_amount_above_the_balance_is_asked_again(call, bank: Bank) -> None:
    c = call()
    to_transfer_amount(c)
    c.keys("20000#")
    assert "more than the 12,345.67 yuan available" in c.said and c.expecting == "amount"
    c.keys("100#")
    assert c.expecting == "confirm"


@pytest.mark.parametrize("entry", ["0#", "abc", "1*234#", "99999999999999#"])
def test_absurd_amounts_get_a_clear_answer(call, entry: str) -> None:
    c = call()
    to_transfer_amount(c)
    c.keys(entry)
    assert c.expecting == "amount" and c.said


# -- failures, repeat, back ----------------------------------------------------------------------
def test_unknown_key_is_explained_and_the_menu_stays(call) -> None:
    c = call()
    c.keys("7")
    assert "7 is not an option" in c.said and c.expecting == "menu"
    c.keys("1")
    assert "account enquiries" in c.said


def test_repeated_silence_falls_back_to_keys_then_an_agent(call) -> None:
    c = call()
    c.silence()
    assert "didn't hear" in c.said and "Tell me" in c.said
    c.silence()
    assert "Please use your keypad" in c.said and "Tell me" not in c.said
    c.silence()
    [transfer] = c.transfers()
    assert transfer.reason == "no_input:menu:main"
    assert c.engine.close().outcome == "transferred"


def test_garbled_speech_counts_as_a_failure(call) -> None:
    c = call()
    c.say("blorp fnarg zzz")
    assert "didn't catch" in c.said and c.expecting == "menu"


def test_failures_count_per_step(call) -> None:
    c = call()
    c.silence()
    c.keys("1")  # success moves to a new step: the count starts again
    c.silence()
    c.silence()
    assert not c.transfers() and c.expecting == "menu"


def test_star_repeats_and_hash_goes_back(call) -> None:
    c = call()
    c.keys("1")
    menu = c.said
    c.keys("*")
    assert c.said == menu
    c.keys("2")
    assert "same-city transfer" in c.said
    c.keys("#")
    assert c.said == menu
    c.keys("#")
    assert "personal customers" in c.said


def test_hash_cancels_a_service_in_progress(call, bank: Bank) -> None:
    c = call()
    to_transfer_amount(c)
    c.keys("#")
    assert c.services()[0].status == "cancelled" and "same-city transfer" in c.said
    assert cny(bank) == 1_234_567


def test_keys_typed_ahead_walk_the_menu(call) -> None:
    c = call()
    c.keys("111")
    assert c.expecting == "card_number"


# -- speech -------------------------------------------------------------------------------------
def test_spoken_request_fills_slots_and_confirms(call, bank: Bank) -> None:
    c = call()
    c.say("send five hundred yuan to my mother")
    c.login()
    assert c.expecting == "confirm"
    assert "500.00 yuan" in c.said and "mother" in c.said
    c.say("yes")
    assert c.services("ok")[0].id == "transfer.local"
    assert cny(bank) == 1_234_567 - 50_000


@pytest.mark.parametrize("intent", ["affirm", "deny"])
def test_a_yes_or_no_the_classifier_only_guesses_moves_nothing_and_asks_again(bank: Bank, intent: str) -> None:
    """'is that the fee?' guessed to be a yes (0.55) must not confirm a transfer, nor cancel it."""
    from voicebot.nlu.keywords import KeywordParser

    class Guessing(KeywordParser):
        def parse(self, text: str, lang: str) -> NluResult:
            if text == "hmm is that the fee":
                return NluResult(text, intent, 0.55, ranking=((intent, 0.55), ("out_of_scope", 0.3)))
            return super().parse(text, lang)

    c = Call(bank, nlu=Guessing())
    c.say("send five hundred yuan to my mother")
    c.login()
    assert c.expecting == "confirm"
    c.say("hmm is that the fee")
    assert c.services() == [] and c.expecting == "confirm" and cny(bank) == 1_234_567
    assert "500.00 yuan" in c.said  # asked again, nothing lost
    c.say("yes")
    assert c.services("ok")[0].id == "transfer.local" and cny(bank) == 1_234_567 - 50_000


@pytest.mark.parametrize(("lang", "wait"), [("en-US", "hold on"), ("zh-CN", "稍等")])
def test_a_caller_who_needs_a_moment_is_waited_for_at_a_confirmation(call, bank: Bank, lang: str,
                                                                     wait: str) -> None:
    c = call(lang=lang)
    to_transfer_amount(c)
    c.keys("100#")
    assert c.expecting == "confirm"
    c.say(wait)
    assert c.said == ("Of course, take your time." if lang == "en-US" else "好的，您慢慢来，不着急。")
    assert c.expecting == "confirm" and c.services() == [] and c.collects() == ["confirm"]
    c.keys("1")
    assert c.services("ok")[0].id == "transfer.local" and cny(bank) == 1_234_567 - 10_000


def test_spoken_request_in_mandarin(call, bank: Bank) -> None:
    c = call(lang="zh-CN")
    c.say("给妈妈转账五百块")
    c.login()
    assert "五百元" in c.said and "妈妈" in c.said
    c.say("确认")
    assert cny(bank) == 1_234_567 - 50_000


@pytest.mark.parametrize(("lang", "asked", "refusal", "usd"), [
    ("en-US", "what is the exchange rate for pounds", "We do not quote pounds", "One US dollar is 7.10 yuan."),
    ("zh-CN", "英镑的汇率是多少", "电话银行暂不提供英镑的汇率", "一美元兑七点一零元人民币。")])
def test_a_currency_without_a_rate_is_named_before_the_rates_we_have(call, lang: str, asked: str, refusal: str,
                                                                     usd: str) -> None:
    c = call(lang=lang)
    c.say(asked)
    [rates] = c.services("ok")
    assert rates.id == "fx.rates" and rates.details["currencies"] == ["EUR", "HKD", "JPY", "USD"]
    assert c.said.startswith(refusal) and usd in c.said


def test_which_way_a_trade_goes_is_taken_from_the_request(call) -> None:
    c = call()
    c.say("i'd like to sell dollars")
    c.login()
    assert c.expecting == "amount" and "How many US dollars" in c.said
    c = call(lang="zh-CN")
    c.say("我想买黄金")
    c.login()
    assert c.expecting == "amount" and "份数" in c.said and "按1" not in c.transcript.split("身份验证成功")[-1]


def test_a_currency_we_do_not_trade_is_named_then_the_choice_offered(call) -> None:
    c = call()
    c.say("i want to buy foreign currency pounds please")
    c.login()
    assert "We do not buy or sell pounds by phone." in c.said and "For euros, press 1." in c.said


def test_a_balance_in_one_currency_reads_that_account_only(call) -> None:
    c = call()
    c.say("what's my balance in dollars")
    c.login()
    assert "500.00 US dollars" in c.said and "yuan account" not in c.said
    c.say("and in euros")
    assert c.said.startswith("You have no euro account.") and "12,345.67 yuan" in c.said


def test_speech_can_switch_service_mid_flow(call) -> None:
    c = call()
    to_transfer_amount(c)
    c.say("actually what is my balance")
    assert [s.status for s in c.services()] == ["cancelled", "ok"]
    assert "12,345.67 yuan" in c.transcript


def test_nlu_outage_falls_back_to_keys(bank: Bank) -> None:
    class DownParser:
        def parse(self, text: str, lang: str) -> None:
            raise NluUnavailable("server unreachable")

    c = Call(bank, nlu=DownParser())
    c.say("balance please")
    assert "not available" in c.said and "keypad" in c.said and c.expecting == "menu"
    c.path("111")
    c.login()
    assert c.services("ok")[0].id == "account.balance"


def test_words_understood_at_the_callers_pause_are_not_parsed_again(bank: Bank) -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from voicebot.nlu.keywords import KeywordParser

    class Recording(KeywordParser):
        def __init__(self) -> None:
            super().__init__()
            self.parsed: list[tuple[str, str]] = []  # (words, the thread that parsed them)

        def parse(self, text: str, lang: str) -> NluResult:
            self.parsed.append((text, threading.current_thread().name))
            return super().parse(text, lang)

    nlu = Recording()
    c = Call(bank, nlu=nlu)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlu") as understander:
        c.engine.anticipate("i lost my card", understander)
        c.engine.anticipate("i lost my card", understander)  # the same words again: one parse
        c.say("i lost my card")
        assert nlu.parsed == [("i lost my card", "nlu_0")]  # parsed once, at the pause, off the call's thread
        assert c.expecting == "card_number"
        c.engine.anticipate("go back", understander)  # the caller went on: "go back to the main menu"
        c.say("go back to the main menu")
        understander.submit(lambda: None).result()  # one worker, in order: the guess's parse is done too
        later = nlu.parsed[1:]  # the dropped guess is cancelled, or parsed and ignored if it had started
        assert ("go back to the main menu", threading.current_thread().name) in later
        assert set(later) - {("go back to the main menu", threading.current_thread().name)} <= {("go back", "nlu_0")}
        assert c.expecting == "menu"
        c.path("111")
        c.keys(DEMO_CARD + "#")
        c.engine.anticipate("one three five seven nine zero", understander)  # a spoken PIN is never parsed
        c.say("one three five seven nine zero")
    assert "one three five seven nine zero" not in [t for t, _ in nlu.parsed] and c.expecting == "pin"


def test_an_nlu_outage_met_at_the_pause_still_falls_back_to_keys(bank: Bank) -> None:
    from concurrent.futures import ThreadPoolExecutor

    class DownParser:
        def parse(self, text: str, lang: str) -> None:
            raise NluUnavailable("server unreachable")

    c = Call(bank, nlu=DownParser())
    with ThreadPoolExecutor(max_workers=1) as understander:
        c.engine.anticipate("balance please", understander)
        c.say("balance please")
    assert "not available" in c.said and "keypad" in c.said and c.expecting == "menu"


# -- report loss within two turns ----------------------------------------------------------------
@pytest.mark.parametrize("lang,opening", [("en-US", "I lost my card"), ("zh-CN", "我的卡丢了"),
                                          ("en-US", "dtmf:3"), ("zh-CN", "dtmf:3")])
def test_report_loss_is_one_turn_from_the_greeting(call, lang: str, opening: str) -> None:
    c = call(lang=lang)
    c.keys(opening[5:]) if opening.startswith("dtmf:") else c.say(opening)
    assert c.expecting == "card_number" and c.engine.service.id == "card.report_loss"


def test_unauthenticated_loss_report_is_provisional(call, bank: Bank) -> None:
    c = call()
    c.say("my card was stolen")
    c.keys(DEMO_CARD + "#")
    c.keys("2")  # does not know the PIN
    c.keys("1")
    [result] = c.services()
    assert result.details["provisional"] is True and "provisionally" in c.said
    assert bank.card(DEMO_CARD).status == "provisional_loss"


def test_an_unknown_card_is_answered_like_a_real_one_when_reporting_a_loss(call, bank: Bank) -> None:
    """A caller who is not logged in learns nothing about which card numbers exist."""
    heard = []
    for number in (DEMO_CARD, "6222029999999999"):
        c = call(caller="13900000009")
        c.say("my card was stolen")
        c.keys(number + "#")
        c.keys("2")
        c.keys("1")
        heard.append(c.transcript.replace(" ".join(number[-4:]), "<last four>"))
    assert heard[0] == heard[1] and "provisionally" in heard[0]


def test_emergency_loss_agent_is_two_turns_from_the_greeting(call) -> None:
    c = call()
    c.keys("0")
    c.keys("1")
    assert c.transfers()[0].reason == "emergency_loss"


# -- regions, languages, segments ----------------------------------------------------------------
def test_roaming_serves_the_home_region(call) -> None:
    c = call(region="021")
    c.keys("1")
    c.keys("7")
    c.keys("010#")
    assert "Beijing" in c.said and c.expecting == "menu"
    c.keys("0")
    c.keys("2")
    assert c.transfers()[0].target == "sip:agents-010@127.0.0.1"
    assert c.engine.close().region == "010"


def test_unknown_area_code_is_refused(call) -> None:
    c = call()
    c.path("17")
    c.keys("999#")
    assert "not one of our regions" in c.said and c.expecting == "area_code"


def test_language_key_switches_to_mandarin(call) -> None:
    c = call()
    c.keys("9")
    assert "个人客户请按1" in c.said
    c.keys("9")
    assert "personal customers" in c.said


def test_corporate_customer_cannot_use_personal_only_services(call) -> None:
    c = call()
    c.keys("2")
    c.keys("1")
    c.login(CORP_ACCOUNT, CORP_PIN)
    assert "1,000,000.00 yuan" in c.said
    c.say("I want to transfer money")
    assert "not available" in c.said


def test_money_amounts_are_read_naturally_in_mandarin(call) -> None:
    c = call(lang="zh-CN")
    c.path("111")
    c.login()
    assert "一万二千三百四十五元六角七分" in c.said and "五百美元" in c.said


# -- failures of our own ------------------------------------------------------------------------
def test_a_bank_outage_hands_the_caller_to_an_agent(call, bank: Bank) -> None:
    c = call()
    c.path("111")
    c.keys(DEMO_CARD + "#")
    bank.engine = make_engine("sqlite:////nonexistent/dir/bank.db")  # the database goes away mid-call
    c.keys(DEMO_PIN)
    assert c.transfers()[0].reason == "system_error" and "technical problem" in c.said
    assert c.engine.close().outcome == "failed"


def test_cdr_records_services_intents_and_outcome(call) -> None:
    c = call(caller="13800000000")
    c.say("what's my balance")
    c.login()
    c.keys("2")
    record = json.loads(cdr_line(c.engine.close()))
    assert record["services"] == ["account.balance"] and record["outcome"] == "self_service"
    assert record["intents"][0]["service"] == "account.balance"
    assert record["caller"] == "13800000000" and record["language"] == "en-US" and record["region"] == "010"
    assert set(record) >= {"call_id", "started_at", "ended_at", "transfer_target", "agent_answer_s"}


def test_every_say_is_non_empty(call) -> None:
    c = call()
    c.path("111")
    c.login()
    assert all(a.text.strip() for a in c.actions if isinstance(a, Say))


def test_a_pin_spoken_at_the_wrong_prompt_is_not_logged(call, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    c = call()
    c.say("my pin is one three five seven nine zero")
    c.say("my pin is 135790 and my card is 6222020000000001")
    assert "135790" not in caplog.text and "one three five seven" not in caplog.text
    assert "6222020000000001" not in caplog.text and "0001" in caplog.text


def test_doubtful_recognition_is_asked_again_not_acted_on(call) -> None:
    from voicebot.dialog.events import Speech

    c = call()
    c._feed(Speech("i lost my card", confidence=0.2))
    assert "didn't catch" in c.said and c.engine.service is None and c.engine.record.intents == []
    c._feed(Speech("i lost my card", confidence=0.9))
    assert c.engine.service.id == "card.report_loss"


def test_a_pin_typed_at_the_card_prompt_is_not_logged(call, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    c = call()
    c.path("111")
    c.keys(DEMO_PIN)  # the caller types the PIN where the card number is asked
    assert DEMO_PIN not in caplog.text


@pytest.mark.parametrize(("lang", "text", "intent"), [
    ("en-US", "put a hold on my card", "card.report_loss"), ("en-US", "please freeze my card", "card.report_loss"),
    ("en-US", "block my card now", "card.report_loss"), ("en-US", "can you freeze the account", "card.report_loss"),
    ("en-US", "hold on a second", "wait"),
    ("zh-CN", "帮我冻结这张卡", "card.report_loss"), ("zh-CN", "马上止付", "card.report_loss"),
    ("zh-CN", "稍等一下", "wait")])
def test_keywords_take_a_hold_or_freeze_on_a_card_for_the_loss_report(lang: str, text: str, intent: str) -> None:
    """Without Rasa, "put a hold on my card" matched the wait intent's "hold on"; the longer catalogue
    words of the loss report win now, and a caller who asks for a moment is still waited for."""
    from voicebot.nlu.keywords import KeywordParser

    assert KeywordParser().parse(text, lang).intent == intent


class _Sure:
    """An NLU that is 0.95 sure every turn is a goodbye."""

    def parse(self, text: str, lang: str) -> NluResult:
        return NluResult(text, "goodbye", 0.95, ranking=(("goodbye", 0.95),))


def _unsure_goodbye(bank: Bank) -> Call:
    """A call whose NLU takes 'and before that' for a goodbye, but only 0.6 sure."""
    from voicebot.nlu.keywords import KeywordParser

    class Guessing(KeywordParser):
        def parse(self, text: str, lang: str) -> NluResult:
            if text == "and before that":
                return NluResult(text, "goodbye", 0.6, ranking=(("goodbye", 0.6), ("out_of_scope", 0.3)))
            return super().parse(text, lang)

    return Call(bank, nlu=Guessing())


def test_an_unsure_goodbye_at_a_menu_asks_whether_there_is_anything_else(bank: Bank) -> None:
    """The call is not hung up on a guess: the caller is asked, and a 'no' there ends it."""
    c = _unsure_goodbye(bank)
    c.say("and before that")
    assert not c.engine.ended and c.engine.ask is not None and c.engine.ask.step == "anything_else", c.said
    c.say("and before that")  # asked whether there is anything else: now a goodbye ends the call
    assert c.engine.ended
    c = _unsure_goodbye(bank)
    c.say("and before that")
    c.say("no")
    assert c.engine.ended and "goodbye" in c.said.lower()
    c = Call(bank, nlu=_Sure())
    c.say("goodbye")  # sure: the call ends at once
    assert c.engine.ended


def test_an_unsure_goodbye_in_a_service_asks_its_step_again(bank: Bank) -> None:
    c = _unsure_goodbye(bank)
    c.say("send five hundred yuan to my mother")
    c.login()
    assert c.expecting == "confirm"
    c.say("and before that")
    assert not c.engine.ended and c.expecting == "confirm" and "500.00 yuan" in c.said, c.said
    c.say("yes")
    assert c.services("ok")[0].id == "transfer.local"


def test_an_unsure_goodbye_that_follows_up_the_last_request_is_served(bank: Bank) -> None:
    """'and the month before that' after the history, read as a goodbye but not surely: the
    follow-up comes first (such a turn once hung up the call)."""
    from voicebot.nlu.keywords import KeywordParser

    class Guessing(KeywordParser):
        def parse(self, text: str, lang: str) -> NluResult:
            if text == "and the month before that":
                return NluResult(text, "goodbye", 0.55, ranking=(("goodbye", 0.55), ("out_of_scope", 0.3)))
            return super().parse(text, lang)

    c = Call(bank, nlu=Guessing())
    c.say("my transaction history for last month")
    c.login()
    served = len(c.services("ok"))
    assert served and c.services("ok")[-1].id == "account.history", c.transcript
    c.say("and the month before that")
    assert not c.engine.ended and len(c.services("ok")) == served + 1, c.said
    assert c.services("ok")[-1].id == "account.history"
