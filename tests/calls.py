"""A small driver for conversations with the dialog engine, used by the dialog tests."""

from __future__ import annotations

from typing import Any

from voicebot.bank.bank import Bank
from voicebot.dialog.actions import Action, Collect, Say, ServiceResult, Transfer
from voicebot.dialog.engine import DialogEngine
from voicebot.dialog.events import HangUp, Keys, NoInput, Speech
from voicebot.nlu.keywords import KeywordParser

DEMO_CARD, DEMO_PIN = "6222020000000001", "135790"
MOTHER_CARD, MOTHER_PIN = "6222020000000003", "112233"
CORP_ACCOUNT, CORP_PIN = "0200000000000010", "246810"
CREDIT_CARD = "6225880000000002"


class Call:
    """One call: feed events, read back what the bot did."""

    def __init__(self, bank: Bank, nlu: Any = "keywords", **kwargs: Any) -> None:
        self.engine = DialogEngine(bank, KeywordParser() if nlu == "keywords" else nlu, **kwargs)
        self.actions: list[Action] = list(self.engine.start())
        self.last: list[Action] = self.actions

    def _feed(self, event: Any) -> list[Action]:
        self.last = self.engine.handle(event)
        self.actions.extend(self.last)
        return self.last

    def keys(self, digits: str) -> list[Action]:
        return self._feed(Keys(digits))

    def path(self, keys: str) -> list[Action]:
        """Press menu keys one event each, as a caller waiting for each prompt would."""
        for k in keys:
            self.keys(k)
        return self.last

    def say(self, text: str) -> list[Action]:
        return self._feed(Speech(text))

    def hear(self, *words: tuple[str, float]) -> list[Action]:
        """Speech as the recogniser gives it: each word with its confidence."""
        text = " ".join(w for w, _ in words)
        return self._feed(Speech(text, min(c for _, c in words), words))

    def garbled(self, text: str, confidence: float, grammar: str, grammar_confidence: float) -> list[Action]:
        """Speech free recognition answered for (``text``) where the step's grammar was unsure of ``grammar``."""
        return self._feed(Speech(text, confidence, grammar=Speech(grammar, grammar_confidence)))

    def at_transfer_amount(self) -> list[Action]:
        """Log in to a same-city transfer (keys 1 2 1) and choose the first account: the amount step."""
        self.path("121")
        self.login()
        self.keys("1")
        assert self.expecting == "amount", self.said
        return self.last

    def silence(self) -> list[Action]:
        return self._feed(NoInput())

    def hangup(self) -> list[Action]:
        return self._feed(HangUp())

    def login(self, ident: str = DEMO_CARD, pin: str = DEMO_PIN) -> list[Action]:
        assert self.expecting in ("card_number", "account_number"), self.expecting
        self.keys(ident + "#")
        return self.keys(pin)

    @property
    def expecting(self) -> str | None:
        return self.engine.expecting

    @property
    def said(self) -> str:
        """Everything said in the last turn, as one string."""
        return " ".join(a.text for a in self.last if isinstance(a, Say))

    @property
    def transcript(self) -> str:
        return " ".join(a.text for a in self.actions if isinstance(a, Say))

    def services(self, status: str | None = None) -> list[ServiceResult]:
        return [a for a in self.actions if isinstance(a, ServiceResult) and (status is None or a.status == status)]

    def transfers(self) -> list[Transfer]:
        return [a for a in self.actions if isinstance(a, Transfer)]

    def collects(self) -> list[str]:
        return [a.expect for a in self.last if isinstance(a, Collect)]
