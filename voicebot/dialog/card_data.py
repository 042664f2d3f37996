"""Which steps of a call collect card data (PCI DSS): a card or account number, a PIN, a CVV,
and the read-back of a number said aloud. Recordings pause over them; nothing else here.
"""

from __future__ import annotations

from voicebot.dialog.ask import Ask

CARD_DATA_EXPECTS = frozenset({"card_number", "account_number", "pin", "cvv"})


def collects_card_data(ask: Ask | None, read_back_of: str | None = None) -> bool:
    """Whether the step ``ask`` collects card data; ``read_back_of``: the expect of the number
    being read back, when the step is a read-back (the bot says the whole number aloud)."""
    if ask is None:
        return False
    return ask.expect in CARD_DATA_EXPECTS or read_back_of in CARD_DATA_EXPECTS
