"""What the dialog engine asks a channel to do; the JSON shapes of interfaces.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EXPECTS = ("menu", "free", "confirm", "pin", "card_number", "account_number", "mobile_number", "amount", "area_code",
           "date")


@dataclass(frozen=True)
class Say:
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"type": "say", "text": self.text}


@dataclass(frozen=True)
class Collect:
    expect: str

    def to_json(self) -> dict[str, Any]:
        return {"type": "collect", "expect": self.expect}


@dataclass(frozen=True)
class ServiceResult:
    id: str
    status: str  # ok | failed | cancelled
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"type": "service", "id": self.id, "status": self.status, **self.details}


@dataclass(frozen=True)
class Transfer:
    target: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"type": "transfer", "target": self.target, "reason": self.reason}


@dataclass(frozen=True)
class Hangup:
    def to_json(self) -> dict[str, Any]:
        return {"type": "hangup"}


Action = Say | Collect | ServiceResult | Transfer | Hangup
