"""Plain read-only values the bank hands to the dialog (no ORM objects leak out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


class BankError(Exception):
    """A refused operation; ``code`` is stable and the dialog turns it into a prompt."""

    def __init__(self, code: str, **details: object) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


@dataclass(frozen=True)
class AuthResult:
    status: str  # ok | wrong_pin | locked | unknown | unregistered
    customer_id: int | None = None
    kind: str | None = None  # personal | corporate
    home_area_code: str | None = None
    attempts_left: int = 0


@dataclass(frozen=True)
class AccountView:
    number: str
    currency: str
    kind: str
    balance_minor: int


@dataclass(frozen=True)
class TxnView:
    booked_at: datetime
    amount_minor: int
    currency: str
    description: str


@dataclass(frozen=True)
class CardView:
    number: str
    kind: str
    status: str
    customer_id: int
    credit_limit_minor: int
    owed_minor: int
    owed_fx_currency: str | None
    owed_fx_minor: int


@dataclass(frozen=True)
class PayeeView:
    id: int
    alias: dict[str, str]
    card_number: str
    area_code: str


@dataclass(frozen=True)
class BillView:
    id: int
    bill_type: str
    amount_minor: int
    due_on: date
    reference: str | None = None  # the number the biller knows it by, if any


@dataclass(frozen=True)
class ProductView:
    code: str
    kind: str
    name: dict[str, str]
    price_minor: int
    held: int = 0


@dataclass(frozen=True)
class RegionView:
    area_code: str
    name: dict[str, str]
    hosted: bool


@dataclass(frozen=True)
class BranchView:
    name: dict[str, str]
    address: dict[str, str]
    hours: dict[str, str]
