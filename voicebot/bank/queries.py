"""The bank's enquiries: read-only views of accounts, cards, bills, payees, products and places."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from voicebot.bank.schema import (
    Account,
    Bill,
    Branch,
    Card,
    Customer,
    FxRate,
    Holding,
    Payee,
    Product,
    Region,
    Transaction,
)
from voicebot.bank.views import (
    AccountView,
    BankError,
    BillView,
    BranchView,
    CardView,
    PayeeView,
    ProductView,
    RegionView,
    TxnView,
)


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


class BankQueries:
    """What a customer may ask about; nothing here writes. ``Bank`` adds identification and money movements."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = _now) -> None:
        self.engine = engine
        self.clock = clock
        self._card_ranges: frozenset[tuple[str, int]] | None = None

    def accounts(self, customer_id: int) -> list[AccountView]:
        with Session(self.engine) as s:
            rows = s.execute(select(Account).where(Account.customer_id == customer_id)
                             .order_by(Account.currency != "CNY", Account.id)).scalars()
            return [AccountView(a.number, a.currency, a.kind, a.balance_minor) for a in rows]

    def transactions(self, customer_id: int, *, start: datetime | None = None, end: datetime | None = None,
                     only_unposted: bool = False, foreign: bool | None = None) -> list[TxnView]:
        """Transactions of a customer's accounts, newest first."""
        q = (select(Transaction, Account.currency).join(Account, Transaction.account_id == Account.id)
             .where(Account.customer_id == customer_id).order_by(Transaction.booked_at.desc(),
                                                                  Transaction.id.desc()))
        if start is not None:
            q = q.where(Transaction.booked_at >= start)
        if end is not None:
            q = q.where(Transaction.booked_at < end)
        if only_unposted:
            q = q.where(Transaction.in_passbook.is_(False))
        if foreign is not None:
            q = q.where((Account.currency != "CNY") if foreign else (Account.currency == "CNY"))
        with Session(self.engine) as s:
            return [TxnView(t.booked_at, t.amount_minor, cur, t.description) for t, cur in s.execute(q)]

    def cards(self, customer_id: int) -> list[CardView]:
        with Session(self.engine) as s:
            rows = s.execute(select(Card).where(Card.customer_id == customer_id).order_by(Card.id)).scalars()
            return [_card_view(c) for c in rows]

    def card(self, number: str) -> CardView | None:
        with Session(self.engine) as s:
            c = s.execute(select(Card).where(Card.number == number)).scalar_one_or_none()
            return _card_view(c) if c else None

    def card_ranges(self) -> frozenset[tuple[str, int]]:
        """The bank's card ranges: each issuer prefix (the first six digits) with the length of its
        cards. Public knowledge (a bank's ranges are published), read once and kept."""
        if self._card_ranges is None:
            with Session(self.engine) as s:
                rows = s.execute(select(func.substr(Card.number, 1, 6), func.length(Card.number)).distinct())
                self._card_ranges = frozenset((prefix, int(length)) for prefix, length in rows)
        return self._card_ranges

    def payees(self, customer_id: int) -> list[PayeeView]:
        with Session(self.engine) as s:
            rows = s.execute(select(Payee).where(Payee.customer_id == customer_id).order_by(Payee.id)).scalars()
            return [PayeeView(p.id, {"en-US": p.alias_en, "zh-CN": p.alias_zh}, p.card_number, p.area_code)
                    for p in rows]

    def card_area(self, card_number: str) -> str | None:
        """Home area code of the customer holding a card of this bank, else None."""
        with Session(self.engine) as s:
            area: str | None = s.execute(select(Customer.home_area_code).join(Card, Card.customer_id == Customer.id)
                                         .where(Card.number == card_number)).scalar_one_or_none()
            return area

    def bills_due(self, customer_id: int, bill_type: str) -> list[BillView]:
        with Session(self.engine) as s:
            rows = s.execute(select(Bill).where(Bill.customer_id == customer_id, Bill.bill_type == bill_type,
                                                Bill.paid_at.is_(None)).order_by(Bill.due_on)).scalars()
            return [BillView(b.id, b.bill_type, b.amount_minor, b.due_on, b.reference) for b in rows]

    def bills_for(self, bill_type: str, reference: str) -> list[BillView]:
        """Unpaid bills of the number a biller knows them by, whoever holds it (anyone may pay them)."""
        with Session(self.engine) as s:
            rows = s.execute(select(Bill).where(Bill.reference == reference, Bill.bill_type == bill_type,
                                                Bill.paid_at.is_(None)).order_by(Bill.due_on)).scalars()
            return [BillView(b.id, b.bill_type, b.amount_minor, b.due_on, b.reference) for b in rows]

    def fx_rates(self) -> dict[str, Decimal]:
        with Session(self.engine) as s:
            return {r.currency: Decimal(r.cny_per_unit_micro) / 1_000_000
                    for r in s.execute(select(FxRate).order_by(FxRate.currency)).scalars()}

    def products(self, kind: str, customer_id: int | None = None) -> list[ProductView]:
        with Session(self.engine) as s:
            rows = s.execute(select(Product).where(Product.kind == kind).order_by(Product.code)).scalars().all()
            held = {}
            if customer_id is not None:
                held = dict(s.execute(select(Holding.product_code, Holding.quantity)
                                      .where(Holding.customer_id == customer_id)).all())
            return [ProductView(p.code, p.kind, {"en-US": p.name_en, "zh-CN": p.name_zh}, p.price_minor,
                                held.get(p.code, 0)) for p in rows]

    def regions(self) -> dict[str, RegionView]:
        with Session(self.engine) as s:
            return {r.area_code: RegionView(r.area_code, {"en-US": r.name_en, "zh-CN": r.name_zh}, r.hosted)
                    for r in s.execute(select(Region)).scalars()}

    def branches(self, area_code: str) -> list[BranchView]:
        with Session(self.engine) as s:
            rows = s.execute(select(Branch).where(Branch.area_code == area_code).order_by(Branch.id)).scalars()
            return [BranchView({"en-US": b.name_en, "zh-CN": b.name_zh},
                               {"en-US": b.address_en, "zh-CN": b.address_zh},
                               {"en-US": b.hours_en, "zh-CN": b.hours_zh}) for b in rows]

    def fx_quote(self, currency: str, amount_minor: int, side: str = "buy") -> int:
        """CNY minor units for ``amount_minor`` of ``currency`` at the mid rate, rounded to the fen in
        the bank's favour: up when the customer pays yuan (``buy``), down when they receive it (``sell``)."""
        rate = self.fx_rates().get(currency)
        if rate is None:
            raise BankError("unknown_currency", currency=currency)
        rounding = ROUND_CEILING if side == "buy" else ROUND_FLOOR
        return int((Decimal(amount_minor) * rate).quantize(Decimal(1), rounding=rounding))


def _card_view(c: Card) -> CardView:
    return CardView(c.number, c.kind, c.status, c.customer_id, c.credit_limit_minor, c.owed_minor,
                    c.owed_fx_currency, c.owed_fx_minor)
