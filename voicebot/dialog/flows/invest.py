"""Stocks, funds, bonds and gold: quote, buy, sell against the CNY current account."""

from __future__ import annotations

from voicebot.bank.bank import MAX_INVEST_UNITS
from voicebot.bank.views import BankError, ProductView
from voicebot.catalogue import Service
from voicebot.dialog import reading
from voicebot.dialog.context import CallContext
from voicebot.dialog.flows import Flow
from voicebot.dialog.flows.common import choose, cny_balance, confirm, money, report_bank_error, units
from voicebot.nlu.entities import SIDE_WORDS


def trade(ctx: CallContext, service: Service) -> Flow:
    action = ctx.take_slot("side")  # "buy some gold" said which way; otherwise quote, buy or sell
    if action is None:
        action = yield from choose(ctx, [
            ("1", "quote", "", ("quote", "price", "行情", "价格")), ("2", "buy", "", SIDE_WORDS["buy"]),
            ("3", "sell", "", SIDE_WORDS["sell"]),
        ], intro=ctx.t("invest_action"), step="action")
    products = ctx.bank.products(service.text_param("kind"), ctx.customer_id)
    product: ProductView = products[0]
    if len(products) > 1:
        items = [(str(i), p, ctx.t("product_item", name=p.name[ctx.lang], key=i), (p.name[ctx.lang].lower(),))
                 for i, p in enumerate(products[:8], start=1)]
        product = yield from choose(ctx, items, step="product")
    name = product.name[ctx.lang]
    ctx.say("quote", name=name, price=money(ctx, product.price_minor), held=reading.number(product.held, ctx.lang))
    if action == "quote":
        ctx.done(service.id, "ok", action="quote", product=product.code)
        return

    def check(n: int) -> str | None:
        if n > MAX_INVEST_UNITS:
            return ctx.t("bad_units")
        if action == "sell" and n > product.held:
            return ctx.t("over_holding", held=reading.number(product.held, ctx.lang))
        if action == "buy" and n * product.price_minor > cny_balance(ctx):
            return ctx.t("over_balance", balance=money(ctx, cny_balance(ctx)))
        return None

    n = yield from units(ctx, check)
    summary = ctx.t("confirm_invest", side=ctx.t(f"side_{action}"), units=reading.number(n, ctx.lang), name=name,
                    price=money(ctx, product.price_minor), total=money(ctx, n * product.price_minor))
    if not (yield from confirm(ctx, summary)):
        ctx.done(service.id, "cancelled")
        return
    try:
        ctx.bank.invest(ctx.op_key(service.id), ctx.customer_id, action, product.code, n)
    except BankError as err:
        report_bank_error(ctx, service.id, err)
        return
    ctx.say("invest_done")
    ctx.done(service.id, "ok", action=action, product=product.code, units=n)
