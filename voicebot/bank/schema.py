"""Database tables of the bank back end (SQLAlchemy 1.4 with the 2.0-style API).

Money columns hold integer minor units and end in ``_minor``; a CHECK keeps every balance
at or above zero, so even a bug cannot leave an account overdrawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})
if TYPE_CHECKING:  # SQLAlchemy 1.4 ships no types: the checker sees a plain mapped base class
    class Base:
        metadata: Any
        __table__: Any

        def __init__(self, **columns: Any) -> None: ...
else:
    Base = declarative_base(metadata=metadata)


class Region(Base):
    __tablename__ = "regions"
    area_code = Column(String(4), primary_key=True)
    name_en = Column(String(64), nullable=False)
    name_zh = Column(String(64), nullable=False)
    hosted = Column(Boolean, nullable=False, default=False)  # automated service run centrally


class Branch(Base):
    __tablename__ = "branches"
    id = Column(Integer, primary_key=True)
    area_code = Column(String(4), ForeignKey("regions.area_code"), nullable=False, index=True)
    name_en = Column(String(128), nullable=False)
    name_zh = Column(String(128), nullable=False)
    address_en = Column(String(256), nullable=False)
    address_zh = Column(String(256), nullable=False)
    hours_en = Column(String(128), nullable=False)
    hours_zh = Column(String(128), nullable=False)


class Customer(Base):
    __tablename__ = "customers"
    id = Column(Integer, primary_key=True)
    kind = Column(String(16), nullable=False)  # personal | corporate
    name = Column(String(128), nullable=False)
    home_area_code = Column(String(4), ForeignKey("regions.area_code"), nullable=False)


class Credential(Base):
    """What a caller identifies with on the keypad (card or account number) and its PIN."""

    __tablename__ = "credentials"
    id = Column(Integer, primary_key=True)
    identifier = Column(String(19), nullable=False, unique=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False)
    pin_hash = Column(String(200), nullable=False)
    failed_pins = Column(Integer, nullable=False, default=0)
    locked = Column(Boolean, nullable=False, default=False)
    registered = Column(Boolean, nullable=False, default=False)  # phone banking enabled


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("balance_minor >= 0", name="balance_not_negative"),)
    id = Column(Integer, primary_key=True)
    number = Column(String(19), nullable=False, unique=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    currency = Column(String(3), nullable=False)
    kind = Column(String(16), nullable=False)  # current | fx | corporate
    balance_minor = Column(Integer, nullable=False, default=0)


class Card(Base):
    __tablename__ = "cards"
    __table_args__ = (
        CheckConstraint("owed_minor >= 0", name="owed_not_negative"),
        CheckConstraint("owed_fx_minor >= 0", name="owed_fx_not_negative"),
    )
    id = Column(Integer, primary_key=True)
    number = Column(String(19), nullable=False, unique=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    kind = Column(String(8), nullable=False)  # debit | credit
    status = Column(String(16), nullable=False, default="active")
    account_id = Column(Integer, ForeignKey("accounts.id"))  # debit card's main account
    credit_limit_minor = Column(Integer, nullable=False, default=0)
    owed_minor = Column(Integer, nullable=False, default=0)  # CNY owed on a credit card
    owed_fx_currency = Column(String(3))
    owed_fx_minor = Column(Integer, nullable=False, default=0)  # foreign-currency balance owed


class Transaction(Base):
    __tablename__ = "transactions"
    id = Column(Integer, primary_key=True)
    account_id = Column(Integer, ForeignKey("accounts.id"), nullable=False, index=True)
    booked_at = Column(DateTime, nullable=False)
    amount_minor = Column(Integer, nullable=False)  # signed: credit > 0, debit < 0
    description = Column(String(128), nullable=False)
    in_passbook = Column(Boolean, nullable=False, default=True)
    operation_key = Column(String(128), index=True)


class Payee(Base):
    __tablename__ = "payees"
    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False, index=True)
    alias_en = Column(String(64), nullable=False)
    alias_zh = Column(String(64), nullable=False)
    card_number = Column(String(19), nullable=False)
    area_code = Column(String(4), ForeignKey("regions.area_code"), nullable=False)


class Bill(Base):
    """A bill due to a biller. ``reference`` is the number the biller knows it by (a mobile number);
    a bill with one may be paid by anyone who names it, as billers allow, and one whose holder
    banks elsewhere has no customer."""

    __tablename__ = "bills"
    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), index=True)
    bill_type = Column(String(16), nullable=False)
    reference = Column(String(20), index=True)
    amount_minor = Column(Integer, nullable=False)
    due_on = Column(Date, nullable=False)
    paid_at = Column(DateTime)


class FxRate(Base):
    __tablename__ = "fx_rates"
    currency = Column(String(3), primary_key=True)
    cny_per_unit_micro = Column(Integer, nullable=False)  # mid rate x 1,000,000


class Product(Base):
    __tablename__ = "products"
    code = Column(String(16), primary_key=True)
    kind = Column(String(8), nullable=False, index=True)  # stock | fund | bond | gold
    name_en = Column(String(64), nullable=False)
    name_zh = Column(String(64), nullable=False)
    price_minor = Column(Integer, nullable=False)  # CNY per unit


class Holding(Base):
    __tablename__ = "holdings"
    __table_args__ = (
        UniqueConstraint("customer_id", "product_code"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
    )
    id = Column(Integer, primary_key=True)
    customer_id = Column(Integer, ForeignKey("customers.id"), nullable=False)
    product_code = Column(String(16), ForeignKey("products.code"), nullable=False)
    quantity = Column(Integer, nullable=False, default=0)


class Operation(Base):
    """One row per money movement or request, keyed by its idempotency key."""

    __tablename__ = "operations"
    key = Column(String(128), primary_key=True)
    kind = Column(String(32), nullable=False)
    customer_id = Column(Integer, ForeignKey("customers.id"))
    created_at = Column(DateTime, nullable=False)
    result = Column(Text, nullable=False)  # JSON of the outcome, returned again on replay
    fingerprint = Column(String(64))  # sha256 of kind, customer and parameters: a replay must match it


class ServiceRequest(Base):
    """Non-monetary requests: card applications, replacements, loss reports, limit changes."""

    __tablename__ = "service_requests"
    id = Column(Integer, primary_key=True)
    kind = Column(String(32), nullable=False)
    customer_id = Column(Integer, ForeignKey("customers.id"))
    card_id = Column(Integer, ForeignKey("cards.id"))
    details = Column(Text, nullable=False, default="{}")
    created_at = Column(DateTime, nullable=False)
    caller = Column(String(64), index=True)  # calling number of an unauthenticated request (rate limits)


class Operator(Base):
    """A person who signs in to the web console: an agent, a supervisor or an NLU trainer.

    Passwords are stored as salted scrypt hashes, like PINs; never the password itself.
    """

    __tablename__ = "operators"
    __table_args__ = (CheckConstraint("role IN ('agent', 'supervisor', 'trainer', 'qa')", name="role"),)
    id = Column(Integer, primary_key=True)
    name = Column(String(64), nullable=False, unique=True)
    role = Column(String(16), nullable=False)
    password_hash = Column(String(200), nullable=False)
    created_at = Column(DateTime, nullable=False)
    pools = Column(String(200), nullable=False, server_default="*")  # agent pools it may work in; '*': all


class HandoverContext(Base):
    """What an agent's screen pop shows of a caller being put through: written by the SIP worker
    that hands the call over, read by the console under the random token the agent seat receives.

    The body is JSON: masked customer, reason, service, language, region and the transcript
    (never the PIN, card numbers masked). Rows are kept for a short while only.
    """

    __tablename__ = "handover_contexts"
    token = Column(String(64), primary_key=True)
    created_at = Column(DateTime, nullable=False, index=True)
    body = Column(Text, nullable=False)


class InboxTurn(Base):
    """A caller turn the NLU was unsure about, for a trainer to label (see ``dialog/inbox.py``).

    ``text`` is masked; ``ranking`` is JSON [[intent, confidence], ...]; ``status`` is new,
    labelled, out_of_scope or dismissed, and ``label`` the intent a trainer gave it.
    """

    __tablename__ = "inbox_turns"
    __table_args__ = (CheckConstraint("status IN ('new', 'labelled', 'out_of_scope', 'dismissed')", name="status"),)
    id = Column(Integer, primary_key=True)
    created_at = Column(DateTime, nullable=False, index=True)
    call_id = Column(String(128), nullable=False)
    lang = Column(String(8), nullable=False)
    text = Column(Text, nullable=False)
    step = Column(String(64))
    kind = Column(String(32), nullable=False)
    ranking = Column(Text, nullable=False)
    next_move = Column(String(32))  # how the call went on (see dialog/inbox.py)
    status = Column(String(16), nullable=False, default="new")
    label = Column(String(64))
    labelled_by = Column(String(64))
    labelled_at = Column(DateTime)


class Cdr(Base):
    """One finished call, as its CDR line says (``voicebot/cdr.py``): reports are queries on this.

    ``body`` is the whole line; the columns are what reports filter and group by. A call is
    stored once: (call_id, started_at) is unique, so lines loaded again from a file are skipped.
    """

    __tablename__ = "cdrs"
    __table_args__ = (UniqueConstraint("call_id", "started_at"),)
    id = Column(Integer, primary_key=True)
    call_id = Column(String(128), nullable=False)
    started_at = Column(DateTime, nullable=False, index=True)  # local time of the line's host, naive
    ended_at = Column(DateTime)
    channel = Column(String(16), nullable=False)
    language = Column(String(8), nullable=False)
    region = Column(String(8), nullable=False)
    outcome = Column(String(16), nullable=False)
    transfer_reason = Column(String(64))
    agent_answer_s = Column(Float)
    worker = Column(String(64))
    body = Column(Text, nullable=False)
    survey_score = Column(Integer)  # 1-5, the caller's rating after an agent conversation (None: not given)


class LiveCall(Base):
    """A call in progress, as its worker last published it (every second; ``voicebot/live_calls.py``).

    The wallboard reads rows updated in the last few seconds: a worker that died leaves rows
    that simply go stale. ``state`` is self_service, waiting (for an agent) or with_agent.
    """

    __tablename__ = "live_calls"
    worker = Column(String(64), primary_key=True)
    call_id = Column(String(128), primary_key=True)
    channel = Column(String(16), nullable=False)
    language = Column(String(8), nullable=False)
    region = Column(String(8), nullable=False)
    step = Column(String(64))
    state = Column(String(16), nullable=False)
    started_at = Column(DateTime, nullable=False)
    waiting_since = Column(DateTime)
    updated_at = Column(DateTime, nullable=False, index=True)


class CdrDaily(Base):
    """Per day, region and service: what reports sum (kept up to date as each CDR is stored).

    ``service`` is "(none)" for a call that ran none; a call's transfer and agent time count
    under its last service. A year of calls is a few tens of thousands of these rows.
    """

    __tablename__ = "cdr_daily"
    day = Column(Date, primary_key=True)
    region = Column(String(8), primary_key=True)
    service = Column(String(64), primary_key=True)
    calls = Column(Integer, nullable=False, default=0)
    transactions = Column(Integer, nullable=False, default=0)
    transfers = Column(Integer, nullable=False, default=0)
    agent_seconds = Column(Float, nullable=False, default=0.0)


class PoolHourly(Base):
    """Per day, agent pool and hour of the day: calls offered to the pool and answered by it."""

    __tablename__ = "pool_hourly"
    day = Column(Date, primary_key=True)
    pool = Column(String(32), primary_key=True)
    hour = Column(Integer, primary_key=True)
    offered = Column(Integer, nullable=False, default=0)
    answered = Column(Integer, nullable=False, default=0)


class RecordingAudit(Base):
    """Who played or exported which call's recording, when and from where: written by the console
    and the CLI, read by supervisors; nothing in the console changes or removes a row."""

    __tablename__ = "recording_audit"
    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, index=True)
    operator = Column(String(64), nullable=False)
    role = Column(String(16), nullable=False)
    action = Column(String(16), nullable=False)  # play | export
    call_id = Column(String(128), nullable=False)
    source = Column(String(64), nullable=False)  # the browser's address, or cli:<user>


class QaReview(Base):
    """A reviewer's score of one call against the console's checklist."""

    __tablename__ = "qa_reviews"
    id = Column(Integer, primary_key=True)
    call_id = Column(String(128), nullable=False, index=True)
    operator = Column(String(64), nullable=False)
    at = Column(DateTime, nullable=False)
    checklist = Column(Text, nullable=False)  # JSON: item -> true/false
    score = Column(Integer, nullable=False)  # items met, in percent
    comment = Column(Text, nullable=False, server_default="")
