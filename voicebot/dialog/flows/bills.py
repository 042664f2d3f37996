"""Bill enquiry and payment: telephone, mobile, water, electricity, gas.

The caller's own bills are read and paid one by one. A mobile bill may also be paid for a number
the caller names (a parent's phone): the number is keyed, or said and read back, and the bills
the carrier has for it are read and paid the same way.
"""

from __future__ import annotations

import re

from voicebot.bank.views import BankError, BillView
from voicebot.catalogue import Service
from voicebot.dialog import reading
from voicebot.dialog.ask import Ask
from voicebot.dialog.context import CallContext
from voicebot.dialog.flows import Flow
from voicebot.dialog.flows.common import Step, confirm, money, report_bank_error

OTHER_KEY = "3"
OTHER = "other number"  # the flow's value for that choice (truthy, unlike a "no")
# what a caller says for it, at the confirmation of their own bill
OTHER_WORDS = {
    "en-US": ("another number", "other number", "different number", "someone else", "another phone"),
    "zh-CN": ("其他号码", "别的号码", "另一个号码", "其他手机", "别的手机", "别人的", "给别人"),
}
_MOBILE = re.compile(r"1[3-9]\d{9}")


def bill(ctx: CallContext, service: Service) -> Flow:
    label = service.label[ctx.lang]
    by_number = service.params.get("by_number", False)
    due = ctx.bank.bills_due(ctx.customer_id, service.text_param("bill_type"))
    if not due and not by_number:
        ctx.say("bill_none", label=label)
        ctx.done(service.id, "ok", due="0.00")
        return
    if not due:  # nothing of the caller's own: the number they came to pay for
        ctx.say("bill_none", label=label)
        yield from other_number(ctx, service)
        return
    other = (OTHER_KEY, OTHER, ctx.t("bill_other_number"), OTHER_WORDS[ctx.lang]) if by_number else None
    for b in due:
        ctx.say("bill_due", label=label, amount=money(ctx, b.amount_minor), day=reading.day(b.due_on, ctx.lang))
        answer = yield from confirm(ctx, ctx.t("confirm_bill", label=label, amount=money(ctx, b.amount_minor)),
                                    other=other)
        if answer == OTHER:
            yield from other_number(ctx, service)
            return
        if not answer:
            ctx.done(service.id, "cancelled")
            return
        if not _paid(ctx, service, b):
            return
        ctx.say("bill_paid", label=label)
    ctx.done(service.id, "ok", paid=len(due))


def other_number(ctx: CallContext, service: Service) -> Step:
    """The bills of a mobile number the caller names, read and paid one by one."""
    label = service.label[ctx.lang]
    number = yield Ask("mobile_number", ctx.t("ask_mobile_number"),
                       validate=lambda n: None if _MOBILE.fullmatch(n) else ctx.t("bad_mobile"))
    said = reading.phone_number(number, ctx.lang)
    due = ctx.bank.bills_for(service.text_param("bill_type"), number)
    if not due:
        ctx.say("number_bill_none", label=label, number=said)
        ctx.done(service.id, "ok", due="0.00", number_ending=number[-4:])
        return
    for b in due:
        amount = money(ctx, b.amount_minor)
        ctx.say("number_bill_due", label=label, number=said, amount=amount, day=reading.day(b.due_on, ctx.lang))
        if not (yield from confirm(ctx, ctx.t("confirm_number_bill", label=label, amount=amount))):
            ctx.done(service.id, "cancelled", number_ending=number[-4:])
            return
        if not _paid(ctx, service, b, number):
            return
        ctx.say("number_bill_paid", label=label)
    ctx.done(service.id, "ok", paid=len(due), number_ending=number[-4:])


def _paid(ctx: CallContext, service: Service, b: BillView, reference: str | None = None) -> bool:
    try:
        ctx.bank.pay_bill(ctx.op_key(service.id), ctx.customer_id, b.id, reference)
    except BankError as err:
        report_bank_error(ctx, service.id, err)
        return False
    return True
