"""Waiting in the queue for an agent: where the caller is, about how long, and a call-back at any time.

When every agent pool of a hand-over was busy or did not answer, the telephony channel puts
the caller in the queue (``DialogEngine.queue_joined``) instead of apologising at once: the call
is open again at a ``queue`` step where 1 asks for a call-back (any other key hears how). The
channel plays hold music between the bot's sentences, tells the caller their place and the
expected wait at intervals (``queue_news``), offers the call-back again after the longest wait,
and closes the step when an agent answers (``queue_answered``). The CDR keeps the place the
caller joined at, the wait and how it ended (``queue_outcome``: answered | callback | abandoned).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voicebot.dialog import reading
from voicebot.dialog.actions import Action
from voicebot.dialog.ask import Ask
from voicebot.dialog.context import CallContext
from voicebot.dialog.flows import Flow

if TYPE_CHECKING:
    from voicebot.dialog.steering import Steering

STEP = "queue"


def position(ctx: CallContext, place: int, wait_s: float) -> str:
    """"You are number 2 in the queue. The wait is about 4 minutes." in the caller's language."""
    minutes = max(1, round(wait_s / 60))
    wait = ctx.t("wait_one_minute") if minutes == 1 else \
        ctx.t("wait_minutes", minutes=reading.number(minutes, ctx.lang))
    # a place is an ordinal: 第2位 (not 第两位); said as digits it reads right in both languages
    return ctx.t("queue_position", place=str(place), wait=wait)


def waiting(ctx: CallContext, place: int, wait_s: float) -> Flow:
    ctx.say("queue_busy")
    ctx.say_text(position(ctx, place, wait_s))
    while not (yield Ask("menu", ctx.t("queue_keys"), options={"1": True}, step=STEP, optional=True)):
        pass  # another key, or none: the caller goes on waiting (and hears how to ask for a call-back)
    ctx.record.callback_requested = True
    ctx.record.queue_outcome = "callback"
    ctx.record.outcome = "failed"  # no agent was reached: as when nobody answers
    ctx.say("callback_booked")
    ctx.say("goodbye")
    ctx.hangup()


def queue_joined(engine: Steering, place: int, wait_s: float) -> list[Action]:
    """The caller of a hand-over nobody took waits in the queue: [] unless the call was just handed over."""
    ctx = engine.ctx
    rec = ctx.record
    if not engine.ended or rec.outcome != "transferred" or rec.queue_outcome is not None:
        return []
    rec.queue_place = place
    ctx.ended = False
    engine.mode, engine.service, engine.flow = "flow", None, waiting(ctx, place, wait_s)
    engine.advance(None, first=True)
    return engine.finish()


def in_queue(engine: Steering) -> bool:
    return not engine.ended and engine.ask is not None and engine.ask.step == STEP


def queue_news(engine: Steering, place: int, wait_s: float, offer_again: bool = False) -> list[Action]:
    """The caller's place and wait again (and, after the longest wait, the call-back offer again)."""
    if not in_queue(engine):
        return []
    engine.ctx.say_text(position(engine.ctx, place, wait_s))
    engine.ctx.say("queue_max_wait" if offer_again else "queue_keys")
    return engine.finish()


def queue_answered(engine: Steering) -> None:
    """An agent took the call: the queue step closes, the call is the agent's again (the channel
    notes the wait and outcome)."""
    if not in_queue(engine):
        return
    engine.flow, engine.ask = None, None
    engine.ctx.ended = True
