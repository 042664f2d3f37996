"""The bank back end: exact money, one movement per idempotency key, no negative balance."""

from __future__ import annotations

import json
import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tests.calls import CORP_ACCOUNT, CORP_PIN, CREDIT_CARD, DEMO_CARD, DEMO_PIN, MOTHER_CARD
from voicebot.bank.bank import Bank
from voicebot.bank.pins import hash_pin, verify_pin
from voicebot.bank.schema import Account, Credential, metadata
from voicebot.bank.views import BankError


def balances(bank: Bank, customer_id: int) -> dict[str, int]:
    return {a.currency: a.balance_minor for a in bank.accounts(customer_id)}


def login(bank: Bank, ident: str = DEMO_CARD, pin: str = DEMO_PIN) -> int:
    result = bank.authenticate(ident, pin)
    assert result.status == "ok"
    return result.customer_id


def test_demo_bank_matches_the_spec(bank: Bank) -> None:
    alice = bank.authenticate(DEMO_CARD, DEMO_PIN)
    assert (alice.kind, alice.home_area_code) == ("personal", "010")
    assert balances(bank, alice.customer_id) == {"CNY": 1_234_567, "USD": 50_000}
    credit = bank.card(CREDIT_CARD)
    assert (credit.status, credit.credit_limit_minor, credit.owed_minor) == ("active", 2_000_000, 120_000)
    assert {b.bill_type: b.amount_minor for t in ("electricity", "water", "mobile")
            for b in bank.bills_due(alice.customer_id, t)} == {"electricity": 8650, "water": 3200, "mobile": 5800}
    [mother] = bank.payees(alice.customer_id)
    assert (mother.alias["en-US"], mother.card_number, mother.area_code) == ("mother", MOTHER_CARD, "010")
    bob = bank.authenticate(MOTHER_CARD, "112233")
    assert (bob.home_area_code, balances(bank, bob.customer_id)) == ("021", {"CNY": 300_000})
    corp = bank.authenticate(CORP_ACCOUNT, CORP_PIN)
    assert (corp.kind, corp.home_area_code, balances(bank, corp.customer_id)) == ("corporate", "010",
                                                                                  {"CNY": 100_000_000})
    assert {k: str(v) for k, v in bank.fx_rates().items()} == {"EUR": "7.7", "HKD": "0.91", "JPY": "0.047",
                                                               "USD": "7.1"}


def test_pins_are_salted_slow_hashes(bank: Bank) -> None:
    a, b = hash_pin("135790"), hash_pin("135790")
    assert a != b and a.startswith("scrypt$") and "135790" not in a
    assert verify_pin("135790", a) and not verify_pin("135791", a)
    with Session(bank.engine) as s:
        stored = s.execute(select(Credential.pin_hash)).scalars().all()
    assert all("135790" not in h and h.startswith("scrypt$") for h in stored)


def test_three_wrong_pins_lock_phone_banking(bank: Bank) -> None:
    assert bank.authenticate(DEMO_CARD, "000000").attempts_left == 2
    assert bank.authenticate(DEMO_CARD, "000001").attempts_left == 1
    assert bank.authenticate(DEMO_CARD, "000002").status == "locked"
    assert bank.authenticate(DEMO_CARD, DEMO_PIN).status == "locked"  # even the right PIN now


def test_a_right_pin_resets_the_failure_count(bank: Bank) -> None:
    bank.authenticate(DEMO_CARD, "000000")
    bank.authenticate(DEMO_CARD, "000000")
    login(bank)
    assert bank.authenticate(DEMO_CARD, "000000").attempts_left == 2


def test_transfer_moves_money_once_per_key(bank: Bank) -> None:
    alice, bob = login(bank), login(bank, MOTHER_CARD, "112233")
    first = bank.transfer("call-1:1", alice, MOTHER_CARD, 50_000, "local")
    again = bank.transfer("call-1:1", alice, MOTHER_CARD, 50_000, "local")
    assert (first["replayed"], again["replayed"]) == (False, True)
    assert balances(bank, alice)["CNY"] == 1_234_567 - 50_000
    assert balances(bank, bob)["CNY"] == 300_000 + 50_000
    assert len(bank.transactions(bob, only_unposted=True)) == 1


def test_concurrent_replays_of_one_confirmation_move_once(bank: Bank) -> None:
    alice = login(bank)
    results, errors = [], []

    def confirm() -> None:
        try:
            results.append(bank.transfer("call-2:1", alice, MOTHER_CARD, 10_000, "local"))
        except Exception as exc:  # collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=confirm) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sum(not r["replayed"] for r in results) == 1
    assert balances(bank, alice)["CNY"] == 1_234_567 - 10_000


def test_overdraft_is_refused_and_nothing_moves(bank: Bank) -> None:
    bob, alice = login(bank, MOTHER_CARD, "112233"), login(bank)
    with pytest.raises(BankError) as err:
        bank.transfer("k-over", bob, DEMO_CARD, 300_001, "remote")
    assert err.value.code == "insufficient_funds"
    assert balances(bank, bob)["CNY"] == 300_000 and balances(bank, alice)["CNY"] == 1_234_567
    bank.transfer("k-exact", bob, DEMO_CARD, 300_000, "remote")  # the whole balance is fine
    assert balances(bank, bob)["CNY"] == 0


@pytest.mark.parametrize("amount", [0, -100, 50_000_01])
def test_absurd_amounts_are_refused(bank: Bank, amount: int) -> None:
    alice = login(bank)
    with pytest.raises(BankError):
        bank.transfer(f"k{amount}", alice, MOTHER_CARD, amount, "local")
    assert balances(bank, alice)["CNY"] == 1_234_567


def test_the_schema_itself_forbids_negative_balances(bank: Bank) -> None:
    with pytest.raises(IntegrityError), Session(bank.engine) as s, s.begin():
        s.execute(update(Account).where(Account.number == "0200000000000100").values(balance_minor=-1))


def test_fx_trade_is_exact_at_the_mid_rate(bank: Bank) -> None:
    alice = login(bank)
    result = bank.fx_trade("fx-1", alice, "buy", "JPY", 12_345)  # 123.45 yen at 0.047 = 5.80215 -> 5.80
    assert result["cny_minor"] == 580
    assert balances(bank, alice) == {"CNY": 1_234_567 - 580, "USD": 50_000, "JPY": 12_345}
    bank.fx_trade("fx-2", alice, "sell", "USD", 10_000)
    assert balances(bank, alice)["CNY"] == 1_234_567 - 580 + 71_000


def test_bill_payment_pays_once(bank: Bank) -> None:
    alice = login(bank)
    [bill] = bank.bills_due(alice, "electricity")
    bank.pay_bill("bill-1", alice, bill.id)
    bank.pay_bill("bill-1", alice, bill.id)
    assert bank.bills_due(alice, "electricity") == []
    assert balances(bank, alice)["CNY"] == 1_234_567 - 8650
    with pytest.raises(BankError, match="bill_paid"):
        bank.pay_bill("bill-2", alice, bill.id)


def test_invest_buy_and_sell(bank: Bank) -> None:
    alice = login(bank)
    bank.invest("inv-1", alice, "buy", "AU999", 2)
    assert bank.products("gold", alice)[0].held == 2
    with pytest.raises(BankError, match="not_enough_units"):
        bank.invest("inv-2", alice, "sell", "AU999", 3)
    bank.invest("inv-3", alice, "sell", "AU999", 2)
    assert balances(bank, alice)["CNY"] == 1_234_567


def test_card_requests(bank: Bank) -> None:
    alice = login(bank)
    assert bank.report_loss("loss-1", DEMO_CARD, provisional=True, customer_id=None)["status"] == "provisional_loss"
    assert bank.report_loss("loss-2", DEMO_CARD, provisional=False, customer_id=alice)["already"] is True
    with pytest.raises(BankError, match="limit_too_low"):
        bank.set_credit_limit("lim-1", alice, CREDIT_CARD, 100_000)
    assert bank.set_credit_limit("lim-2", alice, CREDIT_CARD, 3_000_000)["new_minor"] == 3_000_000
    with pytest.raises(BankError, match="card_not_yours"):
        bank.activate_card("act-1", alice, MOTHER_CARD)
    bank.repay_card("rep-1", alice, CREDIT_CARD, 20_000, "CNY")
    assert bank.card(CREDIT_CARD).owed_minor == 100_000
    with pytest.raises(BankError, match="more_than_owed"):
        bank.repay_card("rep-2", alice, CREDIT_CARD, 100_001, "CNY")


def test_registration_needs_matching_card_account_and_pin(bank: Bank) -> None:
    with Session(bank.engine) as s, s.begin():
        s.execute(update(Credential).where(Credential.identifier == MOTHER_CARD).values(registered=False))
    assert bank.authenticate(MOTHER_CARD, "112233").status == "unregistered"
    with pytest.raises(BankError, match="not_matching"):
        bank.register(MOTHER_CARD, "0200000000000100", "112233")  # someone else's account
    assert bank.register(MOTHER_CARD, "0200000000000300", "112233") == "registered"
    assert bank.authenticate(MOTHER_CARD, "112233").status == "ok"


def test_migrations_match_the_models(bank: Bank) -> None:
    with bank.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        version = conn.execute(text("select version_num from alembic_version")).scalar()
    assert diff == []
    assert version == "0001"


def test_two_worker_processes_replaying_one_confirmation_move_money_once(bank: Bank, db_url: str) -> None:
    """As two SIP workers would: separate processes, separate connections, the same idempotency key."""
    import subprocess
    import sys

    alice = login(bank)
    code = ("import sys, json; from voicebot.bank.bank import Bank; from voicebot.bank.db import make_engine; "
            "b = Bank(make_engine(sys.argv[1])); "
            f"print(json.dumps([b.transfer('call-9:1', {alice}, '{MOTHER_CARD}', 2_500, 'local')['replayed'] "
            "for _ in range(20)]))")
    procs = [subprocess.Popen([sys.executable, "-c", code, db_url], stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=60)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    replayed = [flag for out in outs for flag in json.loads(out)]
    assert replayed.count(False) == 1 and len(replayed) == 40
    assert balances(bank, alice)["CNY"] == 1_234_567 - 2_500
