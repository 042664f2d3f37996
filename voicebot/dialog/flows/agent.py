"""Hand-over to a human agent, with the reason recorded (the seed's list of agent services)."""

from __future__ import annotations

from voicebot.catalogue import Service
from voicebot.dialog.context import CallContext
from voicebot.dialog.flows import Flow
from voicebot.dialog.flows.common import choose


def agent(ctx: CallContext, service: Service) -> Flow:
    reasons = ctx.cat.agent_reasons
    reason = ctx.take_slot("agent_reason")
    if reason is None:
        items = [(r.key, r, ctx.t("agent_item", label=r.label[ctx.lang], key=r.key),
                  (r.label[ctx.lang].lower(),)) for r in reasons]
        reason = yield from choose(ctx, items, step="agent_reason")
    else:
        reason = ctx.cat.reason(reason)
    connect(ctx, service, reason.id)


def complaint(ctx: CallContext, service: Service) -> None:
    connect(ctx, service, "complaint")


def connect(ctx: CallContext, service: Service, reason: str) -> None:
    known = ctx.cat.reason(reason)
    ctx.say("agent_connect", label=known.label[ctx.lang] if known else reason)
    ctx.done(service.id, "ok", reason=reason)
    ctx.transfer(reason)
