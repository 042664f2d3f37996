"""The catalogue is complete and consistent; everything else derives from it."""

from __future__ import annotations

import inspect

from voicebot.catalogue import catalogue
from voicebot.dialog import prompts
from voicebot.dialog.flows import handler

SPEC_SERVICE_IDS = {
    "account.balance", "account.today", "account.history", "account.unposted", "transfer.local",
    "transfer.remote", "bill.landline", "bill.mobile", "bill.water", "bill.electricity", "bill.gas",
    "invest.stock", "invest.fund", "invest.bond", "invest.gold", "fx.rates", "fx.trade", "fx.balance",
    "fx.history", "card.apply", "card.replace", "card.activate", "card.report_loss", "card.account",
    "card.repay_fx", "card.limit", "roaming", "register", "agent",
}
SPEC_CONVERSATION_IDS = {"affirm", "deny", "repeat", "back", "main_menu", "goodbye", "greet", "switch_language",
                         "branch_info", "complaint", "out_of_scope"}
SPEC_AGENT_REASONS = {"consult", "complaint", "branch_info", "new_products", "emergency_loss"}


def test_every_spec_id_is_in_the_catalogue() -> None:
    cat = catalogue()
    assert SPEC_SERVICE_IDS <= set(cat.by_id)
    assert SPEC_CONVERSATION_IDS <= set(cat.by_id) | {i.id for i in cat.intents}
    assert {r.id for r in cat.agent_reasons} == SPEC_AGENT_REASONS


def test_every_service_has_a_flow_labels_and_words_in_both_languages() -> None:
    for service in catalogue().services:
        assert callable(handler(service.handler)), service.id
        assert list(inspect.signature(handler(service.handler)).parameters) == ["ctx", "service"]
        for lang in ("en-US", "zh-CN"):
            assert service.label[lang] and service.keywords.get(lang), (service.id, lang)


def test_menus_derive_from_key_paths() -> None:
    cat = catalogue()
    assert [k for k, _ in cat.children("")] == ["1", "2", "3", "0"]
    assert [k for k, _ in cat.children("13")] == ["1", "2", "3", "4", "5"]
    assert all(cat.children(g.path) for g in cat.groups), "a group menu without entries"
    assert cat.intent_to_service()["card.report_loss"] == "card.report_loss"


def test_prompts_exist_in_both_languages_with_the_same_fields() -> None:
    import string

    for name, (en, zh) in prompts.PROMPTS.items():
        fields = lambda s: {f for _, f, _, _ in string.Formatter().parse(s) if f}  # noqa: E731
        # the English line also reads the bank's (English-only) transaction description
        assert en and zh and fields(en) - {"what"} == fields(zh), name
