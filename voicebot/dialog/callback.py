"""When nobody answers a hand-over: an apology, a call-back offer once, then goodbye.

The telephony channel calls ``DialogEngine.agents_unavailable`` after the overflow rule (three
rings per pool) has run out of agent pools; the call is open again until the caller answers the
offer or hangs up. The call-back wish is recorded in the CDR with the caller's number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voicebot.dialog.actions import Action, Hangup
from voicebot.dialog.ask import Ask
from voicebot.dialog.context import CallContext
from voicebot.dialog.flows import Flow

if TYPE_CHECKING:
    from voicebot.dialog.steering import Steering


def callback_offer(ctx: CallContext) -> Flow:
    """The caller chooses a call-back (recorded in the CDR with their number) or to call again."""
    wanted = yield Ask("confirm", ctx.t("offer_callback"), options={"1": True, "2": False}, step="callback")
    ctx.record.callback_requested = bool(wanted)
    ctx.say("callback_booked" if wanted else "callback_declined")
    ctx.say("goodbye")
    ctx.hangup()


def agents_unavailable(engine: Steering) -> list[Action]:
    """The engine's answer to a hand-over nobody took: [] unless the call was just handed over."""
    ctx = engine.ctx
    if not engine.ended or ctx.record.outcome != "transferred":
        return []
    rec = ctx.record
    rec.outcome, rec.transfer_target = "failed", None
    ctx.say("agents_busy")
    if rec.callback_requested is not None or engine.callback_offered:  # asked once already
        ctx.say("callback_declined")
        ctx.say("goodbye")
        ctx.out.append(Hangup())
        return engine.finish()
    engine.callback_offered = True
    ctx.ended = False
    engine.mode, engine.service, engine.flow = "flow", None, callback_offer(ctx)
    engine.advance(None, first=True)
    return engine.finish()
