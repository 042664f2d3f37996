"""Walk every key path of the catalogue, in both languages, to a completed service."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.calls import CORP_ACCOUNT, CORP_PIN, CREDIT_CARD, DEMO_CARD, DEMO_PIN, MOTHER_CARD, Call
from voicebot.catalogue import CORPORATE, catalogue

# Answers for the steps where "1" or a default would not fit, by service and step name.
START = (date.today() - timedelta(days=60)).strftime("%Y%m%d")
OVERRIDES: dict[str, dict[str, list[str]]] = {
    "transfer.remote": {"payee": ["9"], "card_number": [MOTHER_CARD + "#"]},
    "card.activate": {"card_number": [CREDIT_CARD + "#"]},
    "card.report_loss": {"card_number": [DEMO_CARD + "#"]},
    "register": {"card_number": [DEMO_CARD + "#"], "passbook": ["0200000000000100#"]},
    "card.limit": {"amount": ["30000#"]},
}
DEFAULTS = {"menu": "1", "confirm": "1", "amount": "10#", "date": "0", "start_date": START + "#",
            "area_code": "021#", "units": "10#"}


def drive(call: Call, service_id: str, corporate: bool) -> None:
    """Answer every prompt until the service reports a result (or the call is handed over)."""
    overrides = {k: list(v) for k, v in OVERRIDES.get(service_id, {}).items()}
    for _ in range(20):
        if call.engine.ended or call.services():
            return
        step, expect = call.engine.ask.step, call.expecting
        if step == "identifier":
            call.keys((CORP_ACCOUNT if corporate else DEMO_CARD) + "#")
        elif step == "pin":
            call.keys(CORP_PIN if corporate else DEMO_PIN)
        elif overrides.get(step):
            call.keys(overrides[step].pop(0))
        elif overrides.get(expect):
            call.keys(overrides[expect].pop(0))
        else:
            call.keys(DEFAULTS.get(step, DEFAULTS.get(expect, "1")))
    raise AssertionError(f"{service_id} did not finish: {call.transcript[-400:]}")


PATHS = catalogue().leaf_paths()


@pytest.mark.parametrize("lang", ["en-US", "zh-CN"])
@pytest.mark.parametrize(("path", "service_id"), [(p, s.id) for p, s in PATHS], ids=[p for p, _ in PATHS])
def test_every_key_path_serves_its_service(call, lang: str, path: str, service_id: str) -> None:
    c = call(lang=lang)
    c.path(path)
    drive(c, service_id, corporate=path.startswith(CORPORATE))
    results = c.services()
    assert [r.id for r in results] == [service_id], c.transcript
    assert results[0].status == "ok", c.transcript
    if service_id == "agent":
        assert c.transfers() and c.engine.ended
    else:
        assert not c.engine.ended
        assert c.expecting == "menu"  # "anything else" or, after roaming, the home region's menu


def test_paths_cover_the_contract() -> None:
    """The key paths of the spec's catalogue table, as implemented."""
    by_path = {p: s.id for p, s in PATHS}
    expected = {
        "111": "account.balance", "112": "account.today", "113": "account.history", "114": "account.unposted",
        "121": "transfer.local", "122": "transfer.remote", "131": "bill.landline", "132": "bill.mobile",
        "133": "bill.water", "134": "bill.electricity", "135": "bill.gas", "141": "invest.stock",
        "142": "invest.fund", "143": "invest.bond", "144": "invest.gold", "151": "fx.rates", "152": "fx.trade",
        "153": "fx.balance", "154": "fx.history", "161": "card.apply", "162": "card.replace",
        "163": "card.activate", "164": "card.report_loss", "165": "card.account", "166": "card.repay_fx",
        "167": "card.limit", "17": "roaming", "18": "register", "10": "agent", "0": "agent",
        "21": "account.balance", "22": "account.today", "23": "account.history", "20": "agent",
        "3": "card.report_loss",
    }
    assert by_path == expected
