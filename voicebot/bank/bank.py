"""Bank operations for every catalogue service.

Each money movement runs in one database transaction together with an ``operations`` row
keyed by an idempotency key the server made (never one a caller can choose): a replayed key
returns the first result and moves nothing, and a key replayed for another customer, kind or
amount is refused. Debits, unit sales and bill payments are conditional updates
(``balance >= amount``, ``paid_at IS NULL``) backed by the schema's CHECK constraints, so no
balance goes negative and nothing is paid twice, even by concurrent workers.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voicebot.bank.ledger import account_in, credit, debit, main_account, open_fx_account, own_card
from voicebot.bank.pins import hash_pin, verify_pin
from voicebot.bank.queries import BankQueries
from voicebot.bank.schema import (
    Account,
    Bill,
    Card,
    Credential,
    Customer,
    Holding,
    Operation,
    Product,
    ServiceRequest,
)
from voicebot.bank.views import (
    AuthResult,
    BankError,
)

log = logging.getLogger("voicebot.bank")

MAX_PIN_FAILURES = 3
_NO_PIN = hash_pin("no card has this PIN")  # checked against for unknown cards
MAX_PHONE_TRANSFER_MINOR = 50_000_00  # per transaction, as phone banking limits are
MAX_CREDIT_LIMIT_MINOR = 100_000_00
MAX_INVEST_UNITS = 1_000_000
MAX_KEY_LENGTH = 128  # operations.key
# unauthenticated (provisional) loss reports: per calling number, and per card, within a day
MAX_PROVISIONAL_PER_CALLER = 3
MAX_PROVISIONAL_PER_CARD = 2
# callers with no usable number share one allowance: a withheld number is no way around the limit
MAX_PROVISIONAL_WITHHELD = 5


class Bank(BankQueries):
    """The bank back end over one SQLAlchemy engine (enquiries in ``BankQueries``). Knows nothing of calls."""

    # -- identification -------------------------------------------------------------
    def authenticate(self, identifier: str, pin: str) -> AuthResult:
        """Check a PIN; three wrong PINs lock phone-banking access for that identifier."""
        with Session(self.engine) as s, s.begin():
            cred = s.execute(select(Credential).where(Credential.identifier == identifier)
                             .with_for_update()).scalar_one_or_none()
            if cred is None:
                verify_pin(pin, _NO_PIN)  # as long as a real card's check: the time tells nothing either
                return AuthResult("unknown")
            if cred.locked:
                return AuthResult("locked")
            if not verify_pin(pin, cred.pin_hash):
                cred.failed_pins += 1
                if cred.failed_pins >= MAX_PIN_FAILURES:
                    cred.locked = True
                    return AuthResult("locked")
                return AuthResult("wrong_pin", attempts_left=MAX_PIN_FAILURES - cred.failed_pins)
            cred.failed_pins = 0
            customer = s.get(Customer, cred.customer_id)
            status = "ok" if cred.registered else "unregistered"
            return AuthResult(status, customer.id, customer.kind, customer.home_area_code)

    def register(self, card_number: str, account_number: str, pin: str) -> str:
        """Self-service phone-banking registration with a card and a current account.

        A wrong PIN counts against the same three-try lock as logging in, and the count is
        committed (an error raised inside the transaction would roll it back).
        """
        with Session(self.engine) as s, s.begin():
            cred = s.execute(select(Credential).where(Credential.identifier == card_number)
                             .with_for_update()).scalar_one_or_none()
            account = s.execute(select(Account).where(Account.number == account_number)).scalar_one_or_none()
            if cred is None or account is None or account.customer_id != cred.customer_id:
                outcome = "not_matching"
            elif cred.locked:
                outcome = "locked"
            elif not verify_pin(pin, cred.pin_hash):
                cred.failed_pins += 1
                cred.locked = cred.failed_pins >= MAX_PIN_FAILURES
                outcome = "locked" if cred.locked else "wrong_pin"
            elif cred.registered:
                cred.failed_pins = 0
                outcome = "already"
            else:
                cred.registered = True
                cred.failed_pins = 0
                s.add(ServiceRequest(kind="registration", customer_id=cred.customer_id,
                                     created_at=self.clock()))
                outcome = "registered"
        if outcome not in ("already", "registered"):
            raise BankError(outcome)
        return outcome

    # -- money movements ---------------------------------------------------------------
    def transfer(self, key: str, customer_id: int, payee_card: str, amount_minor: int, scope: str) -> dict[str, Any]:
        """Same-city transfer or remittance from the customer's CNY current account."""
        _check_amount(amount_minor, MAX_PHONE_TRANSFER_MINOR)

        def run(s: Session) -> dict[str, Any]:
            src = main_account(s, customer_id, "CNY")
            card = s.execute(select(Card).where(Card.number == payee_card)).scalar_one_or_none()
            if card is None or card.kind != "debit" or card.account_id is None or card.status != "active":
                raise BankError("payee_unknown")
            dst = s.get(Account, card.account_id)
            if dst.id == src.id:
                raise BankError("same_account")
            debit(s, src, amount_minor, "phone transfer out", key, self.clock())
            credit(s, dst, amount_minor, "phone transfer in", key, self.clock())
            return {"amount_minor": amount_minor, "scope": scope, "payee_card_last4": payee_card[-4:]}

        return self._once(key, "transfer", customer_id, run, payee=payee_card, amount=amount_minor, scope=scope)

    def pay_bill(self, key: str, customer_id: int, bill_id: int, reference: str | None = None) -> dict[str, Any]:
        """Pay one of the customer's own bills, or, with ``reference``, the bill of the number the
        caller named (anyone may pay a mobile number's bill); from the CNY current account."""

        def run(s: Session) -> dict[str, Any]:
            bill = s.get(Bill, bill_id)
            if bill is None or (bill.reference != reference if reference else bill.customer_id != customer_id):
                raise BankError("bill_unknown")
            # marked paid only if nobody else has: a concurrent payment finds the row taken
            paid = s.execute(update(Bill).where(Bill.id == bill_id, Bill.paid_at.is_(None)).values(paid_at=self.clock())
                             .execution_options(synchronize_session=False)).rowcount
            if paid != 1:
                raise BankError("bill_paid")
            src = main_account(s, customer_id, "CNY")
            debit(s, src, bill.amount_minor, f"{bill.bill_type} bill", key, self.clock())
            return {"amount_minor": bill.amount_minor, "bill_type": bill.bill_type}

        named = {"reference": reference} if reference else {}  # own bills: the request as it always was
        return self._once(key, "bill", customer_id, run, bill=bill_id, **named)

    def fx_trade(self, key: str, customer_id: int, side: str, currency: str, amount_minor: int) -> dict[str, Any]:
        """Buy (CNY -> currency) or sell (currency -> CNY) at the mid rate."""
        _check_amount(amount_minor, MAX_PHONE_TRANSFER_MINOR * 100)
        cny_minor = self.fx_quote(currency, amount_minor, side)
        _check_amount(cny_minor, MAX_PHONE_TRANSFER_MINOR)

        def run(s: Session) -> dict[str, Any]:
            cny = main_account(s, customer_id, "CNY")
            fx = account_in(s, customer_id, currency) or open_fx_account(s, customer_id, currency)
            if side == "buy":
                debit(s, cny, cny_minor, f"buy {currency}", key, self.clock())
                credit(s, fx, amount_minor, f"buy {currency}", key, self.clock())
            else:
                debit(s, fx, amount_minor, f"sell {currency}", key, self.clock())
                credit(s, cny, cny_minor, f"sell {currency}", key, self.clock())
            return {"side": side, "currency": currency, "amount_minor": amount_minor, "cny_minor": cny_minor}

        return self._once(key, "fx_trade", customer_id, run, side=side, currency=currency, amount=amount_minor)

    def invest(self, key: str, customer_id: int, side: str, product_code: str, units: int) -> dict[str, Any]:
        if not 0 < units <= MAX_INVEST_UNITS:
            raise BankError("bad_quantity")

        def run(s: Session) -> dict[str, Any]:
            product = s.get(Product, product_code)
            if product is None:
                raise BankError("product_unknown")
            cost = product.price_minor * units
            cny = main_account(s, customer_id, "CNY")
            mine = (Holding.customer_id == customer_id, Holding.product_code == product_code)
            holding = s.execute(select(Holding).where(*mine)).scalar_one_or_none()
            if holding is None:
                holding = Holding(customer_id=customer_id, product_code=product_code, quantity=0)
                s.add(holding)
                s.flush()
            # relative, conditional updates: two concurrent sales cannot both sell the same units
            if side == "buy":
                debit(s, cny, cost, f"buy {product.code}", key, self.clock())
                s.execute(update(Holding).where(*mine).values(quantity=Holding.quantity + units)
                          .execution_options(synchronize_session=False))
            else:
                sold = s.execute(update(Holding).where(*mine, Holding.quantity >= units)
                                 .values(quantity=Holding.quantity - units)
                                 .execution_options(synchronize_session=False)).rowcount
                if sold != 1:
                    raise BankError("not_enough_units", held=holding.quantity)
                credit(s, cny, cost, f"sell {product.code}", key, self.clock())
            return {"side": side, "product": product_code, "units": units, "cny_minor": cost}

        return self._once(key, "invest", customer_id, run, side=side, product=product_code, units=units)

    def repay_card(self, key: str, customer_id: int, card_number: str, amount_minor: int,
                   currency: str) -> dict[str, Any]:
        """Repay a credit card from the CNY current account; a foreign balance is bought with CNY."""
        _check_amount(amount_minor, MAX_CREDIT_LIMIT_MINOR * 100)

        def run(s: Session) -> dict[str, Any]:
            card = own_card(s, customer_id, card_number, "credit")
            if currency == "CNY":
                if amount_minor > card.owed_minor:
                    raise BankError("more_than_owed", owed=card.owed_minor)
                cny_minor = amount_minor
                card.owed_minor -= amount_minor
            else:
                if currency != card.owed_fx_currency or amount_minor > card.owed_fx_minor:
                    raise BankError("more_than_owed", owed=card.owed_fx_minor)
                cny_minor = self.fx_quote(currency, amount_minor, "buy")  # the customer pays yuan
                card.owed_fx_minor -= amount_minor
            debit(s, main_account(s, customer_id, "CNY"), cny_minor, "credit card repayment", key, self.clock())
            return {"currency": currency, "amount_minor": amount_minor, "cny_minor": cny_minor}

        return self._once(key, "card_repay", customer_id, run, card=card_number, currency=currency,
                          amount=amount_minor)

    # -- card requests ----------------------------------------------------------------
    def report_loss(self, key: str, card_number: str, *, provisional: bool, customer_id: int | None,
                    caller: str | None = None) -> dict[str, Any]:
        """Block a card; an unauthenticated (provisional) report holds it until a branch visit.

        A provisional report is answered alike whether or not the card exists (a caller learns
        nothing about card numbers), and is limited per calling number and per card in a day
        (``too_many_reports``), so nobody can block cards wholesale.
        """
        expires = (self.clock() + timedelta(days=5)).date().isoformat() if provisional else None
        alike = {"already": False, "card_last4": card_number[-4:], "status": "provisional_loss", "expires": expires}

        def run(s: Session) -> dict[str, Any]:
            card = s.execute(select(Card).where(Card.number == card_number).with_for_update()).scalar_one_or_none()
            if provisional:  # the same answer for an unknown, an active and an already blocked card
                self._limit_provisional(s, caller, card)
                s.add(ServiceRequest(kind="provisional_loss", customer_id=card.customer_id if card else None,
                                     card_id=card.id if card else None, caller=(caller or "")[:64] or None,
                                     details=json.dumps({"expires": expires, "card_known": card is not None}),
                                     created_at=self.clock()))
                if card is not None and card.status == "active":
                    card.status = "provisional_loss"
                return alike
            if card is None:
                raise BankError("card_unknown")
            if customer_id is not None and card.customer_id != customer_id:
                raise BankError("card_not_yours")
            if card.status in ("lost", "provisional_loss"):
                return {"already": True, "card_last4": card_number[-4:], "status": card.status}
            card.status = "lost"
            s.add(ServiceRequest(kind="loss_report", customer_id=card.customer_id, card_id=card.id,
                                 details=json.dumps({"expires": None}), created_at=self.clock()))
            return {"already": False, "card_last4": card_number[-4:], "status": card.status, "expires": None}

        return self._once(key, "report_loss", customer_id, run, card=card_number, provisional=provisional)

    def _limit_provisional(self, s: Session, caller: str | None, card: Card | None) -> None:
        since = self.clock() - timedelta(days=1)
        recent = select(func.count()).select_from(ServiceRequest).where(
            ServiceRequest.kind == "provisional_loss", ServiceRequest.created_at >= since)
        same_line = ServiceRequest.caller == caller[:64] if caller else ServiceRequest.caller.is_(None)
        if s.execute(recent.where(same_line)).scalar_one() >= (
                MAX_PROVISIONAL_PER_CALLER if caller else MAX_PROVISIONAL_WITHHELD):
            raise BankError("too_many_reports")
        if card is not None and s.execute(recent.where(ServiceRequest.card_id == card.id)).scalar_one() \
                >= MAX_PROVISIONAL_PER_CARD:
            raise BankError("too_many_reports")

    def activate_card(self, key: str, customer_id: int, card_number: str) -> dict[str, Any]:
        def run(s: Session) -> dict[str, Any]:
            card = own_card(s, customer_id, card_number)
            if card.status == "active":
                return {"already": True}
            if card.status != "inactive":
                raise BankError("card_blocked", status=card.status)
            card.status = "active"
            return {"already": False}

        return self._once(key, "card_activate", customer_id, run, card=card_number)

    def request(self, key: str, kind: str, customer_id: int, card_number: str | None = None,
                **details: object) -> dict[str, Any]:
        """Record a card application or replacement request; returns its reference number."""

        def run(s: Session) -> dict[str, Any]:
            card_id = own_card(s, customer_id, card_number).id if card_number else None
            req = ServiceRequest(kind=kind, customer_id=customer_id, card_id=card_id,
                                 details=json.dumps(details), created_at=self.clock())
            s.add(req)
            s.flush()
            return {"reference": f"{req.id:08d}"}

        return self._once(key, kind, customer_id, run, card=card_number, **details)

    def set_credit_limit(self, key: str, customer_id: int, card_number: str, limit_minor: int) -> dict[str, Any]:
        def run(s: Session) -> dict[str, Any]:
            card = own_card(s, customer_id, card_number, "credit")
            if limit_minor > MAX_CREDIT_LIMIT_MINOR:
                raise BankError("limit_too_high", max=MAX_CREDIT_LIMIT_MINOR)
            if limit_minor < max(card.owed_minor, 100_00):
                raise BankError("limit_too_low", min=max(card.owed_minor, 100_00))
            old, card.credit_limit_minor = card.credit_limit_minor, limit_minor
            s.add(ServiceRequest(kind="limit_change", customer_id=customer_id, card_id=card.id,
                                 details=json.dumps({"old": old, "new": limit_minor}), created_at=self.clock()))
            return {"old_minor": old, "new_minor": limit_minor}

        return self._once(key, "card_limit", customer_id, run, card=card_number, limit=limit_minor)

    # -- the idempotent transaction ----------------------------------------------------
    def _once(self, key: str, kind: str, customer_id: int | None, run: Callable[[Session], dict[str, Any]],
              **params: object) -> dict[str, Any]:
        """Run ``run`` and record its result under ``key`` in one transaction, at most once.

        A replay must be the same request (kind, customer and ``params``): a key reused for
        another one is refused with ``key_reused``, never answered with someone else's result.
        """
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ValueError(f"an idempotency key of 1-{MAX_KEY_LENGTH} characters is required")
        fingerprint = hashlib.sha256(json.dumps([kind, customer_id, params], sort_keys=True, default=str)
                                     .encode()).hexdigest()
        try:
            with Session(self.engine) as s, s.begin():
                done = s.get(Operation, key)
                if done is not None:
                    return _replay(done, fingerprint)
                result = run(s)
                s.add(Operation(key=key, kind=kind, customer_id=customer_id, created_at=self.clock(),
                                result=json.dumps(result), fingerprint=fingerprint))
        except IntegrityError:
            # Another worker committed the same key first (replay), or a constraint refused the
            # movement (e.g. a CHECK against an overdraft in a race): either way nothing moved.
            with Session(self.engine) as s:
                done = s.get(Operation, key)
                if done is None:
                    log.warning("operation %s refused by a database constraint", kind)
                    raise BankError("not_completed") from None
                return _replay(done, fingerprint)
        return {**result, "replayed": False}


def _replay(done: Operation, fingerprint: str) -> dict[str, Any]:
    if done.fingerprint != fingerprint:
        log.warning("idempotency key of a %s operation reused for another request: refused", done.kind)
        raise BankError("key_reused")
    return {**json.loads(done.result), "replayed": True}


def _check_amount(amount_minor: int, maximum: int) -> None:
    if amount_minor <= 0:
        raise BankError("amount_not_positive")
    if amount_minor > maximum:
        raise BankError("amount_over_limit", limit=maximum)
