"""Outside evaluation: other people's requests, mapped onto our catalogue, never trained on.

``nlu_data/outside/<lang>.tsv`` and ``<lang>-<collection>.tsv`` hold ``text<TAB>label`` rows from
public collections (see the README there for sources and licences): banking requests, whose label
``MAPPING`` turns into one of our services, and everyday requests no service of ours answers, whose
label it turns into ``out_of_scope`` (the bot must not act on those). Rows with other labels are
left out. Texts are put into the form our recogniser produces (lower case, no punctuation).
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from voicebot.catalogue import Catalogue
from voicebot.dialog.context import DialogSettings
from voicebot.nlu.data import Example
from voicebot.nlu.parser import NOT_A_REQUEST

if TYPE_CHECKING:
    from voicebot.nlu.parser import Parser

OUT_OF_SCOPE = "out_of_scope"

#: Labels of everyday requests (no service of a phone-banking line): HWU64 (its share-price
#: questions are left out as ambiguous with our stock service) and CLINC150's out-of-scope label.
EVERYDAY = frozenset({
    "alarm_query", "alarm_remove", "alarm_set", "audio_volume_down", "audio_volume_mute", "audio_volume_up",
    "calendar_query", "calendar_remove", "calendar_set", "cooking_recipe", "datetime_convert", "datetime_query",
    "email_addcontact", "email_query", "email_querycontact", "email_sendemail", "general_affirm",
    "general_commandstop", "general_confirm", "general_dontcare", "general_explain", "general_joke",
    "general_negate", "general_praise", "general_quirky", "general_repeat", "iot_cleaning", "iot_coffee",
    "iot_hue_lightchange", "iot_hue_lightdim", "iot_hue_lightoff", "iot_hue_lighton", "iot_hue_lightup",
    "iot_wemo_off", "iot_wemo_on", "lists_createoradd", "lists_query", "lists_remove", "music_likeness",
    "music_query", "music_settings", "news_query", "play_audiobook", "play_game", "play_music", "play_podcasts",
    "play_radio", "qa_definition", "qa_factoid", "qa_maths", "recommendation_events", "recommendation_locations",
    "recommendation_movies", "social_post", "social_query", "takeaway_order", "takeaway_query", "transport_query",
    "transport_taxi", "transport_ticket", "transport_traffic", "weather_query", "oos",
    # zh-CN: what people say to a chatbot, by the ChatterBot corpus's categories (its money
    # category, stocks and prices, is left out as ambiguous with our services)
    *(f"chatterbot_{topic}" for topic in ("ai", "botprofile", "conversations", "emotion", "food", "gossip",
                                          "greetings", "history", "humor", "literature", "movies", "politics",
                                          "psychology", "science", "sports", "trivia")),
})

#: BANKING77 categories that are banking but no service of this line (a declined card, a pending
#: transfer, a fee, the PIN, identity checks, top-ups): acting on any service is wrong; handing
#: the caller to an agent (or saying what the line does) is right. Left out as too close to a
#: service of ours: card activation, delivery and replacement, unrecognised payments (fraud),
#: balances not updated, money received, lost phones, exchange-rate complaints, closing accounts.
BANKING_ELSEWHERE = frozenset({
    "age_limit", "apple_pay_or_google_pay", "atm_support", "automatic_top_up", "beneficiary_not_allowed",
    "cancel_transfer", "card_acceptance", "card_payment_fee_charged", "cash_withdrawal_charge", "change_pin",
    "country_support", "declined_card_payment", "declined_cash_withdrawal", "declined_transfer",
    "disposable_card_limits", "edit_personal_details", "extra_charge_on_statement", "failed_transfer",
    "passcode_forgotten", "pending_card_payment", "pending_cash_withdrawal", "pending_top_up", "pending_transfer",
    "pin_blocked", "request_refund", "top_up_by_bank_transfer_charge", "top_up_by_card_charge",
    "top_up_by_cash_or_cheque", "top_up_failed", "top_up_limits", "transaction_charged_twice",
    "transfer_fee_charged", "transfer_not_received_by_recipient", "transfer_timing", "unable_to_verify_identity",
    "verify_my_identity", "verify_top_up", "why_verify_identity", "wrong_amount_of_cash_received",
    # CLINC150's banking and credit-card categories no service of ours answers
    "account_blocked", "card_declined", "pin_change", "routing", "direct_deposit", "interest_rate", "order_checks",
})

#: Outside label -> catalogue service or ``out_of_scope``. BANKING77 (PolyAI, CC BY 4.0), CLINC150
#: (CC BY 3.0) and HWU64 (CC BY-SA 3.0) for en-US.
MAPPING: dict[str, str] = {
    "lost_or_stolen_card": "card.report_loss",
    "compromised_card": "card.report_loss",
    "card_about_to_expire": "card.replace",
    "exchange_rate": "fx.rates",
    "exchange_via_app": "fx.trade",
    "qa_currency": "fx.rates",
    "transfer": "transfer.local",  # CLINC150: money between the caller's own accounts (or to another bank)
    "spending_history": "account.history",
    "report_fraud": "card.report_loss",
    "balance": "account.balance",
    "transactions": "account.history",
    "freeze_account": "card.report_loss",  # the emergency verbal loss report the seed's agents take
    "report_lost_card": "card.report_loss",
    "new_card": "card.apply",  # CLINC150's new_card is applying for a credit card
    "damaged_card": "card.replace",
    "expiration_date": "card.replace",  # as BANKING77's card_about_to_expire
    "credit_limit_change": "card.limit",
    **{label: OUT_OF_SCOPE for label in EVERYDAY | BANKING_ELSEWHERE},
}

_PUNCTUATION = re.compile(r"[^\w'\s]+")


def as_spoken(text: str) -> str:
    """'I'm panicking!  I lost my card!' -> "i'm panicking i lost my card" (what ASR gives us)."""
    return " ".join(_PUNCTUATION.sub(" ", text.lower()).split())


def outside_file(root: Path, lang: str) -> Path:
    """The language's first outside collection (BANKING77 for en-US)."""
    return root / "nlu_data" / "outside" / f"{lang}.tsv"


def outside_files(root: Path, lang: str) -> list[Path]:
    """Every outside collection of a language: ``<lang>.tsv`` and ``<lang>-<collection>.tsv``."""
    folder = root / "nlu_data" / "outside"
    return sorted(p for p in folder.glob(f"{lang}*.tsv") if p.stem == lang or p.stem.startswith(f"{lang}-"))


def load_outside(path: Path) -> list[Example]:
    """The mapped rows of an outside file as examples whose intent is our service id."""
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [Example(as_spoken(r["text"]), MAPPING[r["label"]], r["label"]) for r in rows
            if r.get("label") in MAPPING and r.get("text")]


NOT_A_SERVICE = "(no service)"  # the row of turns that ask for none: greetings, answers, out of scope


@dataclass
class OutsideScores:
    """Per expected service: how often the first guess was right, and what the dialog would do.

    ``acted`` the bot starts the right service at once; ``offered`` it asks about it ("did you
    mean", two guesses, or the right family's menu); ``handed`` it hands the caller to an agent;
    ``wrong`` it starts another service (the figure to drive down); ``missed`` it asks again.
    Turns that ask for no service are ``kept`` out when nothing is started, ``handed`` over when the
    bot offers an agent, else ``wrong``.
    """

    counts: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, service: str, outcome: str, first_right: bool) -> None:
        c = self.counts.setdefault(service, Counter())
        c["total"] += 1
        c[outcome] += 1
        c["first"] += first_right

    def totals(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for c in self.counts.values():
            out.update(c)
        return out

    def rates(self) -> tuple[float, float]:
        """(share of requests for a service acted on right at once, share of all turns acted on wrongly)."""
        asked, every = Counter[str](), self.totals()
        for name, c in self.counts.items():
            if name != NOT_A_SERVICE:
                asked.update(c)
        return asked["acted"] / max(asked["total"], 1), every["wrong"] / max(every["total"], 1)

    def lines(self) -> list[str]:
        rows = [(s, self.counts[s]) for s in sorted(self.counts)] + [("all", self.totals())]
        out = [f"  {'service':<18} {'n':>4} {'first guess':>12} {'acted':>7} {'offered':>8} {'handed over':>12} "
               f"{'wrong':>6} {'kept out':>9}"]
        for name, c in rows:
            n = c["total"]
            out.append(f"  {name:<18} {n:>4} {c['first'] / n:>12.1%} {c['acted'] / n:>7.1%} {c['offered'] / n:>8.1%} "
                       f"{c['handed'] / n:>12.1%} {c['wrong'] / n:>6.1%} {c['kept'] / n:>9.1%}")
        return out

    def summary(self) -> str:
        """One line: what the dialog does with turns that ask for a service, and with those that ask for none."""
        asked = Counter[str]()
        for name, c in self.counts.items():
            if name != NOT_A_SERVICE:
                asked.update(c)
        line = ""
        if n := asked["total"]:
            line = (f"  {n} requests for a service: acted right {asked['acted'] / n:.1%}, wrong action "
                    f"{asked['wrong'] / n:.1%}, asked {asked['offered'] / n:.1%}, handed over "
                    f"{asked['handed'] / n:.1%}, asked again {asked['missed'] / n:.1%}")
        if none := self.counts.get(NOT_A_SERVICE):
            m = none["total"]
            line += (f"\n  {m} turns asking for no service: kept out {none['kept'] / m:.1%}, "
                     f"handed over {none['handed'] / m:.1%}, wrong action {none['wrong'] / m:.1%}")
        return line


def score(parser: Parser, lang: str, examples: list[Example], cat: Catalogue,
          settings: DialogSettings) -> OutsideScores:
    """Parse each example and classify what the dialog's repair rules would do with it."""
    from voicebot.dialog.repair import decide, menu_members

    scores = OutsideScores()
    entry = menu_members(cat, "", settings)  # a call's first request is heard at the entry menu
    for ex in examples:
        result = parser.parse(ex.text, lang)
        first = result.ranking[0][0] if result.ranking else result.intent
        decision = decide(result, cat, settings, *entry)
        ids = [s.id for s in decision.services]
        service = cat.by_id.get(ex.intent)
        if decision.action == "start":
            outcome = "acted" if ids == [ex.intent] else "handed" if ids == ["agent"] else "wrong"
        elif service is None:
            outcome = "kept"
        elif ex.intent in ids or (decision.group is not None and any(
                p[:-1] == decision.group.path for p in service.paths)):
            outcome = "offered"
        else:
            outcome = "missed"
        # for a turn asking for no service, any "not ours" reading is the right first guess
        no_service = first in NOT_A_REQUEST or cat.hands_over(first) is not None
        scores.add(ex.intent if service is not None else NOT_A_SERVICE, outcome,
                   first == ex.intent or (service is None and no_service))
    return scores
