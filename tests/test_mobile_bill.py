"""The mobile bill: the caller's own, or the bill of a mobile number they key or say (a parent's phone)."""

from __future__ import annotations

import pytest

from tests.calls import Call
from voicebot.bank.bank import Bank
from voicebot.bank.demo import DEMO_MOBILE, OTHER_MOBILE
from voicebot.bank.views import BankError

YES = {"en-US": "yes", "zh-CN": "是的"}


def at_own_mobile_bill(bank: Bank, lang: str = "en-US") -> Call:
    c = Call(bank, lang=lang)
    c.path("132")
    c.login()
    assert c.expecting == "confirm", c.said
    return c


def cny(bank: Bank, c: Call) -> int:
    return next(a.balance_minor for a in bank.accounts(c.engine.ctx.customer.customer_id) if a.currency == "CNY")


def test_the_keyed_path_still_pays_the_callers_own_bill_with_1(bank: Bank) -> None:
    c = at_own_mobile_bill(bank)
    assert "58.00 yuan" in c.said and "another mobile number, press 3" in c.said
    before = cny(bank, c)
    c.keys("1")
    assert "is paid" in c.said and cny(bank, c) == before - 58_00
    assert [(r.id, r.status) for r in c.services()] == [("bill.mobile", "ok")]


@pytest.mark.parametrize("lang", ["en-US", "zh-CN"])
def test_a_keyed_number_is_read_in_its_groups_and_its_bill_paid(bank: Bank, lang: str) -> None:
    c = at_own_mobile_bill(bank, lang)
    c.keys("3")
    assert c.expecting == "mobile_number"
    before = cny(bank, c)
    c.keys(OTHER_MOBILE + "#")
    read = "1 3 9, 1 2 3 4, 5 6 7 8" if lang == "en-US" else "幺三九，幺二三四，五六七八"
    amount = "45.00 yuan" if lang == "en-US" else "四十五元"
    assert read in c.said and amount in c.said, c.said
    c.keys("1")
    assert cny(bank, c) == before - 45_00
    assert bank.bills_for("mobile", OTHER_MOBILE) == []
    assert bank.bills_due(c.engine.ctx.customer.customer_id, "mobile")  # the caller's own is still due
    [result] = c.services()
    assert result.status == "ok" and result.details["number_ending"] == "5678"


@pytest.mark.parametrize("said,choice", [
    (["幺三九", "幺二三四", "五六七八"], "别的号码"),  # in groups across pauses, 幺 for one
    (["139 1234 5678"], "给别人交"),  # as Whisper writes it: numerals, in one turn
])
def test_a_mandarin_caller_says_the_number_hears_it_read_back_confirms_and_pays(bank: Bank, said: list[str],
                                                                                 choice: str) -> None:
    c = at_own_mobile_bill(bank, "zh-CN")
    c.say(choice)
    assert c.expecting == "mobile_number", c.said
    for group in said:
        c.say(group)
    if c.engine.gathering:
        c.silence()  # the caller stops: the number is judged
    assert "您说的是幺三九，幺二三四，五六七八，对吗" in c.said, c.said
    before = cny(bank, c)
    c.say("是的")
    assert "四十五元" in c.said and "幺三九，幺二三四，五六七八" in c.said
    c.say("是的")
    assert "缴费成功" in c.said and cny(bank, c) == before - 45_00


def test_no_at_the_read_back_asks_for_the_number_again(bank: Bank) -> None:
    c = at_own_mobile_bill(bank)
    c.keys("3")
    c.say("one three nine one two three four five six seven nine")
    assert "I heard 1 3 9, 1 2 3 4, 5 6 7 9" in c.said
    c.say("no")
    assert c.expecting == "mobile_number"
    c.say("one three nine one two three four five six seven eight")
    c.say("yes")
    assert "45.00 yuan" in c.said


@pytest.mark.parametrize("entry,heard", [("12345678901", "starts with one"), ("1391234567", "eleven digits")])
def test_a_number_that_is_no_mobile_number_gets_a_clear_answer_and_nothing_moves(bank: Bank, entry: str,
                                                                                 heard: str) -> None:
    c = at_own_mobile_bill(bank)
    before = cny(bank, c)
    c.keys("3")
    c.keys(entry + "#")
    assert heard in c.said and c.expecting == "mobile_number", c.said
    assert cny(bank, c) == before and not c.services()


def test_a_number_with_nothing_due_says_so(bank: Bank) -> None:
    c = at_own_mobile_bill(bank)
    c.keys("3")
    c.keys("13700000000#")
    assert "No mobile phone bill is due for 1 3 7, 0 0 0 0, 0 0 0 0" in c.said
    assert [(r.id, r.status, r.details["due"]) for r in c.services()] == [("bill.mobile", "ok", "0.00")]


def test_declining_the_other_numbers_bill_moves_nothing(bank: Bank) -> None:
    c = at_own_mobile_bill(bank)
    before = cny(bank, c)
    c.keys("3")
    c.keys(OTHER_MOBILE + "#")
    c.keys("2")
    assert cny(bank, c) == before and bank.bills_for("mobile", OTHER_MOBILE)
    assert [r.status for r in c.services()] == ["cancelled"]


def test_a_caller_with_no_mobile_bill_of_their_own_is_asked_for_the_number(bank: Bank) -> None:
    alice = next(iter(bank.bills_due(1, "mobile")), None)
    assert alice is not None and alice.reference == DEMO_MOBILE
    c = at_own_mobile_bill(bank)
    c.keys("1")  # her own paid: nothing of hers is due any more
    c.keys("1")  # main menu
    c.path("32")
    assert "no mobile phone bill due" in c.said and c.expecting == "mobile_number", c.said


def test_another_numbers_bill_is_paid_only_by_naming_that_number(bank: Bank) -> None:
    [other] = bank.bills_for("mobile", OTHER_MOBILE)
    [own] = bank.bills_due(1, "mobile")
    with pytest.raises(BankError, match="bill_unknown"):
        bank.pay_bill("k-1", 1, other.id)  # not the caller's, and no number named
    with pytest.raises(BankError, match="bill_unknown"):
        bank.pay_bill("k-2", 1, other.id, DEMO_MOBILE)  # named another number
    with pytest.raises(BankError, match="bill_unknown"):
        bank.pay_bill("k-3", 2, own.id)  # someone else's own bill, by its id alone
    paid = bank.pay_bill("k-4", 2, other.id, OTHER_MOBILE)  # any customer may pay the number they name
    assert paid["amount_minor"] == 45_00 and bank.pay_bill("k-4", 2, other.id, OTHER_MOBILE)["replayed"]
