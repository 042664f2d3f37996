"""Ledger steps inside a money movement's transaction: finding accounts and cards, debits, credits.

A debit is a conditional update (``balance >= amount``), so no balance goes negative even when
concurrent workers move money from one account."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from voicebot.bank.schema import Account, Card, Transaction
from voicebot.bank.views import BankError


def account_in(s: Session, customer_id: int, currency: str) -> Account | None:
    account: Account | None = s.execute(select(Account).where(Account.customer_id == customer_id,
                                                              Account.currency == currency)
                                        .order_by(Account.id)).scalars().first()
    return account


def main_account(s: Session, customer_id: int, currency: str) -> Account:
    account = account_in(s, customer_id, currency)
    if account is None:
        raise BankError("no_account", currency=currency)
    return account


def open_fx_account(s: Session, customer_id: int, currency: str) -> Account:
    base = main_account(s, customer_id, "CNY").number
    account = Account(number=f"{base[:-3]}{currency}"[:19], customer_id=customer_id, currency=currency,
                      kind="fx", balance_minor=0)
    s.add(account)
    s.flush()
    return account


def own_card(s: Session, customer_id: int, number: str, kind: str | None = None) -> Card:
    card: Card | None = s.execute(select(Card).where(Card.number == number).with_for_update()).scalar_one_or_none()
    if card is None or card.customer_id != customer_id or (kind and card.kind != kind):
        raise BankError("card_not_yours")
    return card


def debit(s: Session, account: Account, amount_minor: int, what: str, key: str, at: datetime) -> None:
    moved = s.execute(update(Account).where(Account.id == account.id, Account.balance_minor >= amount_minor)
                      .values(balance_minor=Account.balance_minor - amount_minor)
                      .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise BankError("insufficient_funds")
    s.add(Transaction(account_id=account.id, booked_at=at,
                      amount_minor=-amount_minor, description=what, in_passbook=False, operation_key=key))


def credit(s: Session, account: Account, amount_minor: int, what: str, key: str, at: datetime) -> None:
    s.execute(update(Account).where(Account.id == account.id)
              .values(balance_minor=Account.balance_minor + amount_minor)
              .execution_options(synchronize_session=False))
    s.add(Transaction(account_id=account.id, booked_at=at,
                      amount_minor=amount_minor, description=what, in_passbook=False, operation_key=key))
