"""Foreign exchange: rate enquiry and real-time buying or selling of foreign currency."""

from __future__ import annotations

from voicebot.bank.bank import MAX_PHONE_TRANSFER_MINOR
from voicebot.bank.views import BankError
from voicebot.catalogue import Service
from voicebot.dialog import reading
from voicebot.dialog.context import CallContext
from voicebot.dialog.flows import Flow
from voicebot.dialog.flows.common import amount, choose, cny_balance, confirm_amount, money, report_bank_error
from voicebot.money import from_minor
from voicebot.nlu.entities import SIDE_WORDS


def rates(ctx: CallContext, service: Service) -> None:
    table = ctx.bank.fx_rates()
    wanted = ctx.take_slot("currency")
    if wanted and wanted not in table:  # yuan never gets here (no slot: every rate is in yuan)
        ctx.say("no_rate", name=reading.currency(wanted, ctx.lang))
    shown = {wanted: table[wanted]} if wanted in table else table
    for cur, value in shown.items():
        ctx.say("rate_line", name=reading.unit_name(cur, ctx.lang), rate=reading.rate(value, ctx.lang))
    ctx.done(service.id, "ok", currencies=list(shown))


def trade(ctx: CallContext, service: Service) -> Flow:
    table = ctx.bank.fx_rates()
    side = ctx.take_slot("side")  # "buy some euros" said which way
    if side is None:
        sides = [(key, side, "", SIDE_WORDS[side]) for key, side in (("1", "buy"), ("2", "sell"))]
        side = yield from choose(ctx, sides, intro=ctx.t("fx_side"), step="side")
    currency = ctx.take_slot("currency")
    if currency not in table:
        if currency:
            ctx.say("no_trade", name=reading.currency(currency, ctx.lang))
        names = reading.CURRENCY_NAMES[ctx.lang]
        items = [(str(i), cur, ctx.t("currency_item", name=names[cur], key=i),
                  (names[cur].lower(), cur.lower())) for i, cur in enumerate(table, start=1)]
        currency = yield from choose(ctx, items, step="currency")
    name = reading.currency(currency, ctx.lang)
    held = _held(ctx, currency)

    def check(minor: int) -> str | None:
        cny = ctx.bank.fx_quote(currency, minor, side)
        if cny > MAX_PHONE_TRANSFER_MINOR:
            return ctx.t("over_limit", limit=money(ctx, MAX_PHONE_TRANSFER_MINOR))
        if side == "buy" and cny > cny_balance(ctx):
            return ctx.t("over_balance", balance=money(ctx, cny_balance(ctx)))
        if side == "sell" and minor > held:
            return ctx.t("over_balance", balance=money(ctx, held, currency))
        return None

    minor = yield from amount(ctx, "ask_fx_amount", check=check, name=name)

    def summary(minor: int) -> str:
        return ctx.t("confirm_fx", side=ctx.t(f"side_{side}"), amount=money(ctx, minor, currency),
                     cny=money(ctx, ctx.bank.fx_quote(currency, minor, side)),
                     rate=reading.rate(table[currency], ctx.lang))

    minor = yield from confirm_amount(ctx, minor, summary, check, "ask_fx_amount", name=name)
    if minor is None:
        ctx.done(service.id, "cancelled")
        return
    cny = ctx.bank.fx_quote(currency, minor, side)
    try:
        ctx.bank.fx_trade(ctx.op_key(service.id), ctx.customer_id, side, currency, minor)
    except BankError as err:
        report_bank_error(ctx, service.id, err)
        return
    ctx.say("done_balance", currency=reading.account_currency(currency, ctx.lang),
            balance=money(ctx, _held(ctx, currency), currency))
    ctx.done(service.id, "ok", side=side, currency=currency, amount=str(from_minor(minor)), cny=str(from_minor(cny)))


def _held(ctx: CallContext, currency: str) -> int:
    return next((a.balance_minor for a in ctx.bank.accounts(ctx.customer_id) if a.currency == currency), 0)
