"""Account enquiries: balances, today's, historical and not-yet-in-passbook transactions."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from voicebot.bank.views import TxnView
from voicebot.catalogue import Service
from voicebot.dialog import reading
from voicebot.dialog.ask import Ask
from voicebot.dialog.context import CallContext
from voicebot.dialog.flows import Flow
from voicebot.dialog.flows.common import money

MAX_READ = 5  # transactions read aloud; more would be lost on a listener


def balance(ctx: CallContext, service: Service) -> None:
    foreign = bool(service.params.get("foreign"))
    accounts = [a for a in ctx.bank.accounts(ctx.customer_id) if not foreign or a.currency != "CNY"]
    wanted = ctx.take_slot("currency")  # "and dollars?": that account only, where there is one
    if wanted and accounts:
        if any(a.currency == wanted for a in accounts):
            accounts = [a for a in accounts if a.currency == wanted]
        else:
            ctx.say("no_currency_account", name=reading.account_currency(wanted, ctx.lang))
    if not accounts:
        ctx.say("no_accounts")
    for a in accounts:
        ctx.say("balance_line", currency=reading.account_currency(a.currency, ctx.lang),
                ending=reading.card_ending(a.number, ctx.lang), balance=money(ctx, a.balance_minor, a.currency))
    ctx.done(service.id, "ok", accounts=len(accounts))


def today(ctx: CallContext, service: Service) -> None:
    start = datetime.combine(ctx.bank.clock().date(), time())
    txns = ctx.bank.transactions(ctx.customer_id, start=start)
    _read(ctx, txns, ctx.t("period_today"))
    ctx.done(service.id, "ok", count=len(txns))


def unposted(ctx: CallContext, service: Service) -> None:
    txns = ctx.bank.transactions(ctx.customer_id, only_unposted=True)
    _read(ctx, txns, ctx.t("period_unposted"))
    ctx.done(service.id, "ok", count=len(txns))


def history(ctx: CallContext, service: Service) -> Flow:
    today_ = ctx.bank.clock().date()

    def not_future(value: date | tuple[date, date]) -> str | None:
        first = value[0] if isinstance(value, tuple) else value
        return ctx.t("bad_date") if first > today_ or first < today_ - timedelta(days=3660) else None

    period = ctx.take_slot("period") or (yield Ask("date", ctx.t("ask_start_date"), validate=not_future,
                                                    step="start_date"))
    if isinstance(period, tuple):
        start, end = period
    else:
        start = period
        end = yield Ask("date", ctx.t("ask_end_date"),
                        validate=lambda d: ctx.t("bad_date") if isinstance(d, tuple) or d < start else None,
                        step="end_date")
    end = min(end, today_)
    ctx.last_period = (start, end)
    foreign = bool(service.params.get("foreign"))
    txns = ctx.bank.transactions(ctx.customer_id, start=datetime.combine(start, time()),
                                 end=datetime.combine(end + timedelta(days=1), time()), foreign=foreign)
    if start == end:  # one day: "today", "on November 30, 2026"
        said = ctx.t("period_today") if end == today_ else ctx.t("period_day", day=reading.day(end, ctx.lang))
    else:
        said = ctx.t("period_range", start=reading.day(start, ctx.lang), end=reading.day(end, ctx.lang))
    _read(ctx, txns, said)
    ctx.done(service.id, "ok", count=len(txns), start=start.isoformat(), end=end.isoformat())


def _read(ctx: CallContext, txns: list[TxnView], period: str) -> None:
    if not txns:
        ctx.say("txn_none", period=period)
        return
    ctx.say("txn_count", n=reading.number(len(txns), ctx.lang), period=period)
    for t in txns[:MAX_READ]:
        ctx.say("txn_line", day=reading.day(t.booked_at.date(), ctx.lang),
                direction=ctx.t("txn_in" if t.amount_minor > 0 else "txn_out"),
                amount=money(ctx, abs(t.amount_minor), t.currency), what=t.description)
    if len(txns) > MAX_READ:
        ctx.say("txn_more", shown=reading.number(MAX_READ, ctx.lang))
