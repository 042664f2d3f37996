"""Console operators: created by ``voicebot users add`` (and the demo seed), checked at sign-in,
listed, given a new password or removed by ``voicebot users``."""

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

ROLES = ("agent", "supervisor", "trainer", "qa")
MIN_PASSWORD = 8
#: The demo operator ``voicebot db seed --demo`` creates (stated in README). The console lets it
#: sign in only in the demo set-up (bound to loopback, no public host names): see ``server``.
DEMO_OPERATOR = ("demo", "agent", "demo-95588")
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
_POOL = re.compile(r"[A-Za-z0-9._-]{1,32}")
# a wrong name costs the same scrypt as a wrong password: sign-in time does not tell names apart
_DUMMY = hash_pin("not a password")


class OperatorError(ValueError):
    """A name, role or password that cannot be used; the message says why."""


@dataclass(frozen=True)
class SignedIn:
    id: int
    name: str
    role: str
    pools: frozenset[str] | None = None  # the agent pools this operator may work in; None: every pool

    def may_work_in(self, pool: str) -> bool:
        return self.pools is None or pool in self.pools


def _pools_text(pools: list[str] | None) -> str:
    """['010', 'central'] -> '010,central'; None -> '*' (every pool)."""
    if pools is None:
        return "*"
    names = sorted({p.strip() for p in pools if p.strip()})
    if not names or any(not _POOL.fullmatch(p) for p in names):
        raise OperatorError("pools are names such as 010 or central, separated by commas")
    return ",".join(names)


def _signed_in(row: Operator) -> SignedIn:
    pools = None if row.pools in ("*", None) else frozenset(p for p in row.pools.split(",") if p)
    return SignedIn(row.id, row.name, row.role, pools)


def valid_name(name: str) -> bool:
    return bool(_NAME.fullmatch(name))


def _check_password_rule(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise OperatorError(f"a password has at least {MIN_PASSWORD} characters")


def add_operator(engine: Engine, name: str, role: str, password: str, pools: list[str] | None = None) -> SignedIn:
    """A new operator; an agent works only in ``pools`` (None: every pool)."""
    if not valid_name(name):
        raise OperatorError("a name is 2-64 lower-case letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise OperatorError(f"the role is one of {', '.join(ROLES)}")
    _check_password_rule(password)
    try:
        with Session(engine) as s, s.begin():
            row = Operator(name=name, role=role, password_hash=hash_pin(password), created_at=datetime.now(),
                           pools=_pools_text(pools))
            s.add(row)
            s.flush()
            return _signed_in(row)
    except IntegrityError as exc:
        raise OperatorError(f"there is already an operator called {name}") from exc


def check_password(engine: Engine, name: str, password: str) -> tuple[SignedIn, str] | None:
    """The operator and their password hash if ``password`` is theirs; None otherwise (same cost
    for unknown names)."""
    with Session(engine) as s:
        row = s.execute(select(Operator).where(Operator.name == name)).scalar_one_or_none()
        if row is None:
            verify_pin(password, _DUMMY)
            return None
        return (_signed_in(row), row.password_hash) if verify_pin(password, row.password_hash) else None


def current(engine: Engine, operator_id: int) -> tuple[SignedIn, str] | None:
    """The operator as the table has them now, with their password hash; None once removed."""
    with Session(engine) as s:
        row = s.get(Operator, operator_id)
        return (_signed_in(row), row.password_hash) if row is not None else None


def list_operators(engine: Engine) -> list[dict[str, str]]:
    with Session(engine) as s:
        rows = s.execute(select(Operator).order_by(Operator.name)).scalars().all()
        return [{"name": r.name, "role": r.role, "pools": r.pools,
                 "created_at": r.created_at.isoformat(timespec="seconds")} for r in rows]


def set_pools(engine: Engine, name: str, pools: list[str] | None) -> None:
    """The agent pools ``name`` may work in from now on (their sessions follow within half a minute)."""
    with Session(engine) as s, s.begin():
        row = s.execute(select(Operator).where(Operator.name == name)).scalar_one_or_none()
        if row is None:
            raise OperatorError(f"there is no operator called {name}")
        row.pools = _pools_text(pools)


def set_password(engine: Engine, name: str, password: str) -> None:
    """Give ``name`` a new password (their console sessions end at their next request's check)."""
    _check_password_rule(password)
    if name == DEMO_OPERATOR[0] and password == DEMO_OPERATOR[2]:
        raise OperatorError("that is the published demo password")
    with Session(engine) as s, s.begin():
        row = s.execute(select(Operator).where(Operator.name == name)).scalar_one_or_none()
        if row is None:
            raise OperatorError(f"there is no operator called {name}")
        row.password_hash = hash_pin(password)


def remove_operator(engine: Engine, name: str) -> None:
    with Session(engine) as s, s.begin():
        row = s.execute(select(Operator).where(Operator.name == name)).scalar_one_or_none()
        if row is None:
            raise OperatorError(f"there is no operator called {name}")
        s.delete(row)
