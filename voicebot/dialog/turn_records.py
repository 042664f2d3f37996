"""What is written down about each turn of a call, by the same rules: the log line, the
transcript an agent's screen pop shows, and the trainer's inbox of unsure turns.

The engine calls ``before`` and ``after`` around each caller event and ``said`` with each
reply; nothing here changes the dialog. A PIN step's keys and words are withheld everywhere.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from voicebot.dialog.actions import Action
from voicebot.dialog.context import CallRecord
from voicebot.dialog.events import Event, loggable
from voicebot.dialog.inbox import TurnInbox, Watch, save_inbox
from voicebot.dialog.spoken_number import LONG_NUMBER_STEPS
from voicebot.dialog.transcript import Transcript

if TYPE_CHECKING:
    from voicebot.dialog.steering import Steering

log = logging.getLogger("voicebot.dialog")

SECRET_STEPS = ("pin",)


class TurnRecords:
    def __init__(self, engine: Steering) -> None:
        self.engine = engine
        self.transcript = Transcript()  # both sides, secrets withheld: the agent's screen pop
        self.inbox = TurnInbox()  # unsure turns, for the NLU trainer

    def before(self, event: Event) -> Watch:
        engine = self.engine
        step = engine.ask.step if engine.ask else "-"
        # a card read in groups would otherwise be logged a group a line
        number = engine.ask is not None and (engine.ask.expect in LONG_NUMBER_STEPS or engine.numbers.reading_back)
        secret = step in SECRET_STEPS
        log.info("call=%s step=%s %s", engine.ctx.call_id, step, loggable(event, secret=secret, number_entry=number))
        self.transcript.caller(event, secret=secret, number_entry=number)
        return self.inbox.before(engine)

    def after(self, event: Event, watch: Watch) -> None:
        self.inbox.after(self.engine, event, watch)

    def said(self, actions: list[Action]) -> None:
        self.transcript.bot(actions)

    def closed(self, record: CallRecord) -> None:
        save_inbox(self.engine.ctx, self.inbox.kept(record.outcome))
