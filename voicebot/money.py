"""Exact money: integer minor units (fen, cents) in storage, Decimal at the edges."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

CURRENCIES = ("CNY", "USD", "EUR", "HKD", "JPY", "GBP")
MINOR_PER_UNIT = 100  # every currency of the line is kept to two places


class AmountError(ValueError):
    """An amount that cannot be money: negative, zero, too many decimals, not a number."""


def to_minor(amount: Decimal | str | int) -> int:
    """Exact conversion to minor units; refuses anything that would need rounding."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation as exc:
        raise AmountError(f"not an amount: {amount!r}") from exc
    if not value.is_finite():
        raise AmountError("not a finite amount")
    minor = value * MINOR_PER_UNIT
    if minor != minor.to_integral_value():
        raise AmountError("more than two decimal places")
    return int(minor)


def from_minor(minor: int) -> Decimal:
    return (Decimal(minor) / MINOR_PER_UNIT).quantize(Decimal("0.01"))


def fmt(minor: int) -> str:
    """'12,345.67' for logs and readable text."""
    return f"{from_minor(minor):,}"
