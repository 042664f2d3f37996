"""Bill enquiry and payment: telephone, mobile, water, electricity, gas."""

from __future__ import annotations

from voicebot.bank.views import BankError
from voicebot.catalogue import Service
from voicebot.dialog import reading
from voicebot.dialog.context import CallContext
from voicebot.dialog.flows import Flow
from voicebot.dialog.flows.common import confirm, money, report_bank_error


def bill(ctx: CallContext, service: Service) -> Flow:
    label = service.label[ctx.lang]
    due = ctx.bank.bills_due(ctx.customer.customer_id, service.params["bill_type"])
    if not due:
        ctx.say("bill_none", label=label)
        ctx.done(service.id, "ok", due="0.00")
        return
    for b in due:
        ctx.say("bill_due", label=label, amount=money(ctx, b.amount_minor), day=reading.day(b.due_on, ctx.lang))
        if not (yield from confirm(ctx, ctx.t("confirm_bill", label=label, amount=money(ctx, b.amount_minor)))):
            ctx.done(service.id, "cancelled")
            return
        try:
            ctx.bank.pay_bill(ctx.op_key(service.id), ctx.customer.customer_id, b.id)
        except BankError as err:
            report_bank_error(ctx, service.id, err)
            return
        ctx.say("bill_paid", label=label)
    ctx.done(service.id, "ok", paid=len(due))
