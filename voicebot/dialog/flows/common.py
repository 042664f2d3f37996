"""Steps shared by the flows: menus, confirmation, amounts, card choice, identification."""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from typing import Any

from voicebot.bank.views import BankError, CardView
from voicebot.dialog import reading
from voicebot.dialog.ask import Ask
from voicebot.dialog.context import CallContext
from voicebot.dialog.inputs import Correction
from voicebot.money import AmountError, to_minor

Step = Generator[Ask, Any, Any]


def choose(ctx: CallContext, items: Sequence[tuple[str, Any, str, tuple[str, ...]]], intro: str = "",
           step: str = "choice") -> Step:
    """A menu of (key, value, sentence, spoken words); returns the chosen value."""
    sentences = " ".join(sentence for _key, _value, sentence, _words in items)
    prompt = f"{intro} {sentences}".strip()
    return (yield Ask("menu", prompt, options={k: v for k, v, _s, _w in items},
                      words={k: w for k, _v, _s, w in items}, step=step))


def confirm(ctx: CallContext, summary: str, *, amounts: bool = False,
            other: tuple[str, Any, str, tuple[str, ...]] | None = None) -> Step:
    """Read back what will happen and wait for an explicit yes (key 1) or no (key 2).

    A spoken correction naming another service of the family ("I said electricity") ends this
    one and starts that one; an amount correction is returned (falsy) when ``amounts`` is set,
    and otherwise asked again. ``other`` is one more choice (key, truthy value, sentence, spoken
    words), offered before the yes/no keys and returned as its value.
    """
    keys = ctx.t("confirm_keys")
    options: dict[str, Any] = {"1": True, "2": False}
    words: dict[str, tuple[str, ...]] = {}
    if other is not None:
        key, options[key], sentence, words[key] = other
        keys = f"{sentence} {keys}"
    prompt = f"{summary} {keys}"
    while True:
        answer = yield Ask("confirm", prompt, options=options, words=words, step="confirm")
        if not isinstance(answer, Correction):
            break
        if answer.service is not None:
            ctx.say("service_corrected", label=answer.service.label[ctx.lang])
            ctx.next_service = (answer.service, *(answer.request or (None, "")))
            return answer
        if amounts:
            return answer
        ctx.say("no_match")
    if not answer:
        ctx.say("cancelled")
    return answer


def confirm_amount(ctx: CallContext, minor: int, summary: Callable[[int], str],
                   check: Callable[[int], str | None] | None = None, prompt_key: str = "ask_amount",
                   **values: object) -> Step:
    """Confirm a request that carries an amount; "no, two hundred" reads the new amount back.

    Returns the confirmed amount in minor units, or None when the caller declined.
    """
    while True:
        answer = yield from confirm(ctx, summary(minor), amounts=True)
        if not isinstance(answer, Correction) or answer.amount is None:
            return minor if answer else None
        ctx.say("corrected")
        ctx.slots["amount"] = answer.amount
        minor = yield from amount(ctx, prompt_key, check=check, **values)


ABSURD_MINOR = 10**13  # a hundred billion: no phone caller means this


def amount(ctx: CallContext, prompt_key: str = "ask_amount", *,
           check: Callable[[int], str | None] | None = None, **values: object) -> Step:
    """An amount in minor units: a slot from the NLU first, else asked; validated each time."""

    def validate(value: Any) -> str | None:
        try:
            minor = to_minor(value)
        except AmountError:
            return ctx.t("bad_amount")
        if not 0 < minor < ABSURD_MINOR:
            return ctx.t("bad_amount")
        return check(minor) if check else None

    slot = ctx.take_slot("amount")
    if slot is not None and validate(slot) is None:
        return to_minor(slot)
    if slot is not None:
        ctx.say_text(validate(slot) or "")
    value = yield Ask("amount", ctx.t(prompt_key, **values), validate=validate)
    return to_minor(value)


def units(ctx: CallContext, check: Callable[[int], str | None]) -> Step:
    def validate(value: Any) -> str | None:
        if value != int(value) or int(value) <= 0:
            return ctx.t("bad_units")
        return check(int(value))

    value = yield Ask("amount", ctx.t("ask_units"), validate=validate, step="units")
    return int(value)


def card_number(ctx: CallContext, prompt_key: str, check: Callable[[str], str | None] | None = None) -> Step:
    return (yield Ask("card_number", ctx.t(prompt_key), validate=check))


def pick_card(ctx: CallContext, kind: str | None = None, status: set[str] | None = None) -> Step:
    """One of the caller's own cards: chosen by menu when there are several, None when there are none."""
    cards = [c for c in ctx.bank.cards(ctx.customer_id)
             if (kind is None or c.kind == kind) and (status is None or c.status in status)]
    if not cards:
        ctx.say("no_card")
        return None
    if len(cards) == 1:
        return cards[0]
    items = [(str(i), c, ctx.t("card_item", kind=ctx.t(f"kind_{c.kind}"),
                                ending=reading.card_ending(c.number, ctx.lang), key=i), (c.number[-4:],))
             for i, c in enumerate(cards[:8], start=1)]
    chosen: CardView = yield from choose(ctx, items, step="card")
    return chosen


def money(ctx: CallContext, minor: int, currency: str = "CNY") -> str:
    return reading.money(minor, currency, ctx.lang)


def report_bank_error(ctx: CallContext, service_id: str, err: BankError) -> None:
    from voicebot.dialog.prompts import bank_error

    ctx.say("bank_error", reason=bank_error(err.code, ctx.lang))
    ctx.done(service_id, "failed", error=err.code)


def cny_balance(ctx: CallContext) -> int:
    return next((a.balance_minor for a in ctx.bank.accounts(ctx.customer_id) if a.currency == "CNY"), 0)


def funds_check(ctx: CallContext, limit: int | None = None) -> Callable[[int], str | None]:
    """Validator for an amount paid from the CNY current account."""

    def check(minor: int) -> str | None:
        if limit is not None and minor > limit:
            return ctx.t("over_limit", limit=money(ctx, limit))
        balance = cny_balance(ctx)
        if minor > balance:
            return ctx.t("over_balance", balance=money(ctx, balance))
        return None

    return check


def authenticate(ctx: CallContext, corporate: bool) -> Step:
    """Card (or corporate account) number and keypad PIN; three failures go to an agent."""
    for attempt in range(1, ctx.settings.max_failures + 1):
        ident = yield Ask("account_number" if corporate else "card_number",
                          ctx.t("ask_account" if corporate else "ask_card"), step="identifier")
        pin = yield Ask("pin", ctx.t("ask_pin"), step="pin")
        result = ctx.bank.authenticate(ident, pin)
        if result.status == "ok":
            ctx.customer, ctx.identifier = result, ident
            ctx.say("auth_ok")
            return True
        if result.status == "locked":
            ctx.say("auth_locked")
            ctx.transfer("pin_locked")
            return False
        if result.status == "unregistered":
            ctx.say("auth_unregistered")
            return False
        # an unknown card is answered as a real one with a wrong PIN: the words never tell which
        # card numbers exist (its tries are this call's; a real card's are counted by the bank)
        left = result.attempts_left if result.status == "wrong_pin" else ctx.settings.max_failures - attempt
        if left <= 0:
            ctx.say("auth_locked")
            break
        ctx.say("auth_wrong")
        ctx.say("auth_attempts", n=left)
    ctx.transfer("auth_failed")
    return False
