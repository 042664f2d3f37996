"""Same-city transfers and remittances to another city, to a saved payee or a card number."""

from __future__ import annotations

from voicebot.bank.bank import MAX_PHONE_TRANSFER_MINOR
from voicebot.bank.views import BankError, PayeeView
from voicebot.catalogue import Service
from voicebot.dialog import reading
from voicebot.dialog.context import CallContext
from voicebot.dialog.flows import Flow
from voicebot.dialog.flows.common import (
    amount,
    card_number,
    choose,
    cny_balance,
    confirm_amount,
    funds_check,
    money,
    report_bank_error,
)
from voicebot.money import from_minor
from voicebot.redact import mask_card

OTHER_CARD = "9"


def transfer(ctx: CallContext, service: Service) -> Flow:
    payees = ctx.bank.payees(ctx.customer_id)
    payee = _payee_from_speech(ctx, payees)
    if payee is None and payees:
        items: list[tuple[str, PayeeView | None, str, tuple[str, ...]]] = [
            (str(i), p, ctx.t("payee_item", alias=p.alias[ctx.lang], key=i,
                              ending=reading.card_ending(p.card_number, ctx.lang)),
             (p.alias[ctx.lang], f"my {p.alias[ctx.lang]}")) for i, p in enumerate(payees[:8], start=1)]
        items.append((OTHER_CARD, None, ctx.t("payee_other"), ("another card", "other", "其他", "别的卡")))
        payee = yield from choose(ctx, items, step="payee")
    if payee is None:
        number = yield from card_number(ctx, "ask_payee_card", check=lambda n: _payee_check(ctx, n))
        payee = PayeeView(0, {"en-US": ctx.t("payee_card_word"), "zh-CN": ctx.t("payee_card_word")}, number,
                          ctx.bank.card_area(number) or "")
    home = ctx.customer.home_area_code if ctx.customer else None
    scope = "local" if payee.area_code == home else "remote"
    actual = ctx.cat.by_id[f"transfer.{scope}"]
    if actual.id != service.id:
        ctx.say(f"scope_{scope}")
    check = funds_check(ctx, MAX_PHONE_TRANSFER_MINOR)
    minor = yield from amount(ctx, check=check)

    def summary(minor: int) -> str:
        return ctx.t("confirm_transfer", amount=money(ctx, minor), payee=payee.alias[ctx.lang],
                     ending=reading.card_ending(payee.card_number, ctx.lang), service=actual.label[ctx.lang])

    minor = yield from confirm_amount(ctx, minor, summary, check)
    if minor is None:
        ctx.done(actual.id, "cancelled")
        return
    try:
        result = ctx.bank.transfer(ctx.op_key(actual.id), ctx.customer_id, payee.card_number, minor, scope)
    except BankError as err:
        report_bank_error(ctx, actual.id, err)
        return
    ctx.say("done_balance", currency=reading.account_currency("CNY", ctx.lang), balance=money(ctx, cny_balance(ctx)))
    ctx.done(actual.id, "ok", amount=str(from_minor(minor)), currency="CNY",
             payee=mask_card(payee.card_number), replayed=result["replayed"])


def _payee_from_speech(ctx: CallContext, payees: list[PayeeView]) -> PayeeView | None:
    """A saved payee named in the request: the NLU's payee entity, else an alias in the words."""
    named = (ctx.take_slot("payee") or "").lower()
    said = (ctx.take_slot("utterance") or "").lower()
    for p in payees:
        aliases = {a.lower() for a in p.alias.values()}
        if named in aliases or any(a in said for a in aliases):
            return p
    return None


def _payee_check(ctx: CallContext, number: str) -> str | None:
    if ctx.bank.card_area(number) is None:
        return ctx.t("payee_unknown")
    card = ctx.bank.card(number)
    if card is not None and card.customer_id == ctx.customer_id and card.kind == "debit":
        return ctx.t("payee_self")
    return None
