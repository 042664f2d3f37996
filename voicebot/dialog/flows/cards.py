"""Card services: apply, replace, activate, report loss, credit card account, repayment, limit."""

from __future__ import annotations

from voicebot.bank.views import BankError, CardView
from voicebot.catalogue import Service
from voicebot.dialog import reading
from voicebot.dialog.ask import Ask
from voicebot.dialog.context import CallContext
from voicebot.dialog.flows import Flow
from voicebot.dialog.flows.common import (
    amount,
    card_number,
    choose,
    confirm,
    funds_check,
    money,
    pick_card,
    report_bank_error,
)
from voicebot.money import from_minor
from voicebot.redact import mask_card


def apply(ctx: CallContext, service: Service) -> Flow:
    if not (yield from confirm(ctx, ctx.t("confirm_apply"))):
        ctx.done(service.id, "cancelled")
        return
    result = ctx.bank.request(ctx.op_key(service.id), "card_apply", ctx.customer_id)
    ctx.say("request_done", ref=reading.digits(result["reference"], ctx.lang))
    ctx.done(service.id, "ok", reference=result["reference"])


def replace(ctx: CallContext, service: Service) -> Flow:
    card: CardView | None = yield from pick_card(ctx)
    if card is None:
        ctx.done(service.id, "failed", error="no_card")
        return
    if not (yield from confirm(ctx, ctx.t("confirm_replace", ending=_ending(ctx, card.number)))):
        ctx.done(service.id, "cancelled")
        return
    result = ctx.bank.request(ctx.op_key(service.id), "card_replace", ctx.customer_id, card.number)
    ctx.say("request_done", ref=reading.digits(result["reference"], ctx.lang))
    ctx.done(service.id, "ok", reference=result["reference"])


def activate(ctx: CallContext, service: Service) -> Flow:
    def own(number: str) -> str | None:
        card = ctx.bank.card(number)
        return None if card and card.customer_id == ctx.customer_id else ctx.t("card_unknown")

    number = yield from card_number(ctx, "ask_activate_card", check=own)
    try:
        result = ctx.bank.activate_card(ctx.op_key(service.id), ctx.customer_id, number)
    except BankError as err:
        report_bank_error(ctx, service.id, err)
        return
    ctx.say("already_active" if result["already"] else "activated", ending=_ending(ctx, number))
    ctx.done(service.id, "ok", card=mask_card(number))


def report_loss(ctx: CallContext, service: Service) -> Flow:
    """Formal report with the card's PIN (or by a logged-in owner); otherwise provisional, as the seed says."""
    # Only a logged-in caller hears whether a number is a card of ours; anyone else is answered
    # alike for every number (the bank holds unknown numbers as it holds real cards).
    known = (lambda n: None if ctx.bank.card(n) else ctx.t("card_unknown")) if ctx.customer else None
    number = yield from card_number(ctx, "ask_lost_card", check=known)
    card = ctx.bank.card(number)
    provisional = True
    if ctx.customer is not None and card is not None and card.customer_id == ctx.customer.customer_id:
        provisional = False
    else:
        with_pin = yield from choose(ctx, [("1", True, "", ("pin", "password", "密码")),
                                           ("2", False, "", ("don't know", "provisional", "不知道", "临时"))],
                                     intro=ctx.t("loss_pin_choice"), step="loss_pin_choice")
        if with_pin:
            pin = yield Ask("pin", ctx.t("ask_pin"), step="pin")
            result = ctx.bank.authenticate(number, pin)
            provisional = result.status not in ("ok", "unregistered")
            if provisional:
                ctx.say("auth_wrong")
    if not (yield from confirm(ctx, ctx.t("confirm_loss", ending=_ending(ctx, number)))):
        ctx.done(service.id, "cancelled")
        return
    owner = ctx.customer.customer_id if ctx.customer and not provisional else None
    try:
        report = ctx.bank.report_loss(ctx.op_key(service.id), number, provisional=provisional, customer_id=owner,
                                      caller=ctx.record.caller)
    except BankError as err:
        report_bank_error(ctx, service.id, err)
        return
    if report["already"]:
        ctx.say("loss_already", ending=_ending(ctx, number))
    elif provisional:
        from datetime import date

        ctx.say("loss_provisional", ending=_ending(ctx, number),
                day=reading.day(date.fromisoformat(report["expires"]), ctx.lang))
    else:
        ctx.say("loss_done", ending=_ending(ctx, number))
    ctx.done(service.id, "ok", card=mask_card(number), provisional=provisional)


def account(ctx: CallContext, service: Service) -> Flow:
    card: CardView | None = yield from pick_card(ctx, "credit")
    if card is None:
        ctx.done(service.id, "failed", error="no_card")
        return
    ctx.say("card_status", ending=_ending(ctx, card.number), limit=money(ctx, card.credit_limit_minor),
            owed=money(ctx, card.owed_minor), available=money(ctx, card.credit_limit_minor - card.owed_minor))
    if card.owed_fx_minor and card.owed_fx_currency:
        ctx.say("card_fx_owed", owed=money(ctx, card.owed_fx_minor, card.owed_fx_currency))
    ctx.done(service.id, "ok")


def repay(ctx: CallContext, service: Service) -> Flow:
    """Repay a foreign-currency balance by buying it with yuan; offers the yuan balance when there is none."""
    card: CardView | None = yield from pick_card(ctx, "credit")
    if card is None:
        ctx.done(service.id, "failed", error="no_card")
        return
    ending = _ending(ctx, card.number)
    if card.owed_fx_minor and card.owed_fx_currency:
        currency, owed = card.owed_fx_currency, card.owed_fx_minor
        ctx.say("repay_fx_due", owed=money(ctx, owed, currency), ending=ending,
                cny=money(ctx, ctx.bank.fx_quote(currency, owed)))
    elif card.owed_minor:
        currency, owed = "CNY", card.owed_minor
        ctx.say("repay_no_fx", owed=money(ctx, owed))
    else:
        ctx.say("repay_nothing")
        ctx.done(service.id, "ok", owed="0.00")
        return
    full = yield from choose(ctx, [("1", True, "", ("all", "everything", "full", "全部", "全额")),
                                   ("2", False, "", ("other", "part", "其他", "部分"))],
                             intro=ctx.t("repay_choice"), step="repay_choice")

    def check(minor: int) -> str | None:
        if minor > owed:
            return ctx.t("bank_error", reason=ctx.t("repay_nothing") if not owed else money(ctx, owed, currency))
        return funds_check(ctx)(ctx.bank.fx_quote(currency, minor) if currency != "CNY" else minor)

    minor = owed if full else (yield from amount(ctx, check=check))
    if full and (err := funds_check(ctx)(ctx.bank.fx_quote(currency, owed) if currency != "CNY" else owed)):
        ctx.say_text(err)
        minor = yield from amount(ctx, check=check)
    cny = ctx.bank.fx_quote(currency, minor) if currency != "CNY" else minor
    summary = ctx.t("confirm_repay", amount=money(ctx, minor, currency), ending=ending, cny=money(ctx, cny))
    if not (yield from confirm(ctx, summary)):
        ctx.done(service.id, "cancelled")
        return
    try:
        ctx.bank.repay_card(ctx.op_key(service.id), ctx.customer_id, card.number, minor, currency)
    except BankError as err:
        report_bank_error(ctx, service.id, err)
        return
    ctx.say("repaid")
    ctx.done(service.id, "ok", currency=currency, amount=str(from_minor(minor)))


def limit(ctx: CallContext, service: Service) -> Flow:
    card: CardView | None = yield from pick_card(ctx, "credit")
    if card is None:
        ctx.done(service.id, "failed", error="no_card")
        return
    ctx.say("limit_now", limit=money(ctx, card.credit_limit_minor))
    new = yield from amount(ctx, "ask_new_limit")
    summary = ctx.t("confirm_limit", old=money(ctx, card.credit_limit_minor), new=money(ctx, new))
    if not (yield from confirm(ctx, summary)):
        ctx.done(service.id, "cancelled")
        return
    try:
        ctx.bank.set_credit_limit(ctx.op_key(service.id), ctx.customer_id, card.number, new)
    except BankError as err:
        report_bank_error(ctx, service.id, err)
        return
    ctx.say("limit_done", new=money(ctx, new))
    ctx.done(service.id, "ok", limit=str(from_minor(new)))


def _ending(ctx: CallContext, number: str) -> str:
    return reading.card_ending(number, ctx.lang)
