"""Console operators: created by ``voicebot users add`` (and the demo seed), checked at sign-in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from voicebot.bank.pins import hash_pin, verify_pin
from voicebot.bank.schema import Operator

ROLES = ("agent", "supervisor", "trainer")
MIN_PASSWORD = 8
#: The demo operator ``voicebot db seed --demo`` creates (stated in README; change it on a real line).
DEMO_OPERATOR = ("demo", "agent", "demo-95588")
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
# a wrong name costs the same scrypt as a wrong password: sign-in time does not tell names apart
_DUMMY = hash_pin("not a password")


class OperatorError(ValueError):
    """A name, role or password that cannot be used; the message says why."""


@dataclass(frozen=True)
class SignedIn:
    id: int
    name: str
    role: str


def add_operator(engine: Engine, name: str, role: str, password: str) -> SignedIn:
    if not _NAME.fullmatch(name):
        raise OperatorError("a name is 2-64 lower-case letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise OperatorError(f"the role is one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise OperatorError(f"a password has at least {MIN_PASSWORD} characters")
    try:
        with Session(engine) as s, s.begin():
            row = Operator(name=name, role=role, password_hash=hash_pin(password), created_at=datetime.now())
            s.add(row)
            s.flush()
            return SignedIn(row.id, name, role)
    except IntegrityError as exc:
        raise OperatorError(f"there is already an operator called {name}") from exc


def check_password(engine: Engine, name: str, password: str) -> SignedIn | None:
    """The operator if ``password`` is theirs; None otherwise (same cost for unknown names)."""
    with Session(engine) as s:
        row = s.execute(select(Operator).where(Operator.name == name)).scalar_one_or_none()
        if row is None:
            verify_pin(password, _DUMMY)
            return None
        return SignedIn(row.id, row.name, row.role) if verify_pin(password, row.password_hash) else None
