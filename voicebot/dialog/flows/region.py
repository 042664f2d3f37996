"""Roaming to the home region, phone-banking registration, branch information."""

from __future__ import annotations

from voicebot.bank.views import BankError
from voicebot.catalogue import Service
from voicebot.dialog import reading
from voicebot.dialog.ask import Ask
from voicebot.dialog.context import CallContext
from voicebot.dialog.flows import Flow
from voicebot.dialog.flows.common import card_number, confirm


def roaming(ctx: CallContext, service: Service) -> Flow:
    """Serve the caller by the home region's system: later agents, branches and logins are that region's."""
    regions = ctx.bank.regions()
    code = yield Ask("area_code", ctx.t("ask_area_code"),
                     validate=lambda c: None if c in regions else ctx.t("bad_area_code"))
    ctx.region = ctx.record.region = code
    ctx.customer = ctx.identifier = None  # the home system identifies the caller afresh
    ctx.say("roamed", name=regions[code].name[ctx.lang])
    ctx.done(service.id, "ok", region=code)
    ctx.next_menu = ""


def register(ctx: CallContext, service: Service) -> Flow:
    card = yield from card_number(ctx, "ask_card")
    passbook = yield Ask("account_number", ctx.t("ask_passbook"), step="passbook")
    pin = yield Ask("pin", ctx.t("ask_pin"), step="pin")
    ending = reading.card_ending(card, ctx.lang)
    if not (yield from confirm(ctx, ctx.t("confirm_register", ending=ending))):
        ctx.done(service.id, "cancelled")
        return
    try:
        outcome = ctx.bank.register(card, passbook, pin)
    except BankError as err:
        ctx.say("auth_locked" if err.code == "locked" else "register_mismatch")
        ctx.done(service.id, "failed", error=err.code)
        return
    ctx.say("registered" if outcome == "registered" else "already_registered", ending=ending)
    ctx.done(service.id, "ok", outcome=outcome)


def branch_info(ctx: CallContext, service: Service) -> None:
    branches = ctx.bank.branches(ctx.region)
    if not branches:
        ctx.say("no_branches")
    for b in branches:
        ctx.say("branch_line", name=b.name[ctx.lang], address=b.address[ctx.lang], hours=b.hours[ctx.lang])
    ctx.done(service.id, "ok", branches=len(branches))
