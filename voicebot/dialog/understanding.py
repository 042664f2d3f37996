"""The engine's one door to the NLU: a parse started early at the caller's pause, or at the turn's end.

A turn ends only after a pause (the endpoint); if it ends with the words heard at an earlier
pause, the reply need not wait for the NLU, whose answer is usually ready by then. The NLU
never sees a card number or PIN said at the wrong prompt (``redact``), and a broken or absent
NLU puts the call on the keypad instead of ending it.
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor, Future

from voicebot.dialog.context import CallContext
from voicebot.nlu.parser import NluResult
from voicebot.redact import redact

log = logging.getLogger("voicebot.dialog")


class Understanding:
    """Parses for one call; ``guess`` is a parse begun before the turn ended."""

    def __init__(self, ctx: CallContext) -> None:
        self.ctx = ctx
        self.guess: tuple[str, Future[NluResult]] | None = None

    def anticipate(self, text: str, executor: Executor) -> None:
        """Start parsing ``text`` on ``executor`` (the caller checks the step may parse speech)."""
        if self.ctx.nlu is None or (self.guess is not None and self.guess[0] == text):
            return
        self.drop()
        self.guess = (text, executor.submit(self.ctx.nlu.parse, redact(text, for_nlu=True), self.ctx.lang))

    def drop(self) -> None:
        """Forget an early parse the caller's words went past (cancelled if it has not started)."""
        if self.guess is not None:
            self.guess[1].cancel()
            self.guess = None

    def parse(self, text: str) -> NluResult | None:
        """The NLU's reading of a finished turn, recorded for the CDR; None if the NLU is unavailable."""
        if self.ctx.nlu is None:
            return None
        guess, self.guess = self.guess, None
        early = guess[1] if guess is not None and guess[0] == text else None
        anticipated = early is not None
        if guess is not None and early is None:
            guess[1].cancel()
        try:
            result = early.result() if early is not None else self.ctx.nlu.parse(redact(text, for_nlu=True),
                                                                                   self.ctx.lang)
            log.info("call=%s nlu %s", self.ctx.call_id, "anticipated" if anticipated else "parsed")
        except Exception as exc:  # NLU down or broken: the call goes on by keys
            log.warning("call=%s nlu unavailable: %s", self.ctx.call_id, exc)
            return None
        self.ctx.record.intents.append({"intent": result.intent, "confidence": round(result.confidence, 4),
                                        "service": result.service})
        self.ctx.last_nlu = result
        return result
