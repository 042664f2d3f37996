"""NLU data and the parts around Rasa that need no model: validation, entities, routing, training stamps."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from voicebot.catalogue import catalogue
from voicebot.config import PROJECT_DIR
from voicebot.dialog.context import DialogSettings
from voicebot.nlu import entities
from voicebot.nlu.data import Example, load_examples, plain
from voicebot.nlu.parser import NluUnavailable
from voicebot.nlu.rasa_backend import RasaHttp
from voicebot.nlu.routing import route
from voicebot.nlu.training import NluPaths, fingerprint, is_current
from voicebot.nlu.validation import MIN_EXAMPLES, expected_intents, validate

PATHS = NluPaths(PROJECT_DIR, PROJECT_DIR / "models" / "nlu")


@pytest.mark.parametrize("lang", ["en-US", "zh-CN"])
def test_data_is_valid_and_covers_the_catalogue(lang: str) -> None:
    train, heldout = load_examples(PATHS.data(lang)), load_examples(PATHS.heldout(lang))
    assert validate(train, heldout, catalogue()) == []
    per_intent = {i: sum(e.intent == i for e in train) for i in expected_intents(catalogue())}
    assert min(per_intent.values()) >= MIN_EXAMPLES
    # the held-out set stays as it was written (family requests came later; conversation tests cover them)
    assert {e.intent for e in heldout} == set(per_intent) - set(catalogue().family_by_intent)


@pytest.mark.parametrize("lang", ["en-US", "zh-CN"])
def test_outside_data_is_never_trained_on(lang: str) -> None:
    import csv

    from voicebot.nlu.outside import MAPPING, OUT_OF_SCOPE, load_outside, outside_files

    paths = outside_files(PROJECT_DIR, lang)
    if not paths:
        pytest.skip(f"no outside collection for {lang} (see nlu_data/outside/README.md)")
    trained = {e.text.lower() for e in load_examples(PATHS.data(lang))}
    for path in paths:
        with path.open(encoding="utf-8", newline="") as fh:
            labels = {r["label"] for r in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)}
        assert labels <= set(MAPPING), (path.name, labels - set(MAPPING))  # every row is scored
        outside = load_outside(path)
        assert len(outside) >= 100, path.name
        assert {e.intent for e in outside} <= {s.id for s in catalogue().services} | {OUT_OF_SCOPE}
        assert not [e.text for e in outside if e.text in trained], path.name


def test_validation_finds_conflicts_gaps_and_leaks() -> None:
    train = [Example("hello", "greet", "a"), Example("hello", "affirm", "a"), Example("x", "not.an.id", "a")]
    problems = [str(p) for p in validate(train, [Example("x", "greet", "b")], catalogue())]
    assert any("'hello' is an example of affirm, greet" in p for p in problems)
    assert any("account.balance has no intent" in p for p in problems)
    assert any("not.an.id is not a catalogue id" in p for p in problems)
    assert any("held-out 'x' is also training data" in p for p in problems)


def test_annotations_are_stripped() -> None:
    assert plain("buy [us dollars](currency) for [mother](payee)") == "buy us dollars for mother"


@pytest.mark.parametrize(("text", "expected"), [
    ("send five hundred yuan to my mother", {"amount": "500"}),
    ("buy two hundred us dollars", {"amount": "200", "currency": "USD"}),
    ("买五百美元", {"amount": "500", "currency": "USD"}),
    ("report my card ending in six two two two", {"card_ending": "6222"}),
    ("area code zero two one", {"area_code": "021"}),
    ("上个月的明细", {"date_range": "2026-10-01/2026-10-31"}),
    ("两千五百块给妈妈", {"amount": "2500"}),
    ("buy two hundred us dollars", {"side": "buy"}),
    ("i'd like to sell my hong kong dollars", {"side": "sell"}),
    ("卖掉港币", {"side": "sell"}),
])
def test_entities(text: str, expected: dict[str, str]) -> None:
    found = {e["entity"]: e["value"] for e in entities.extract(text, today=date(2026, 11, 28))}
    assert found.items() >= expected.items(), found


@pytest.mark.parametrize("text", ["do you buy and sell gold", "买卖外汇", "exchange some euros", "bought nothing"])
def test_no_side_unless_one_way_was_said(text: str) -> None:
    assert "side" not in {e["entity"] for e in entities.extract(text)}


def test_rasa_entities_win_over_keyword_fallback() -> None:
    raw = [{"entity": "payee", "value": "mother"}, {"entity": "currency", "value": "EUR"}]
    found = {e["entity"]: e["value"] for e in entities.extract("pay mum in dollars", raw)}
    assert found["payee"] == "mother" and found["currency"] == "EUR"


def test_money_moving_services_need_more_confidence() -> None:
    settings = DialogSettings(min_confidence=0.6, min_confidence_money=0.8)
    assert route("account.balance", 0.65, settings) == "account.balance"
    assert route("transfer.local", 0.65, settings) is None
    assert route("transfer.local", 0.85, settings) == "transfer.local"
    assert route("affirm", 0.99, settings) is None and route("nlu_fallback", 0.4, settings) is None


def test_training_stamp_follows_the_data(tmp_path: Path) -> None:
    root = tmp_path / "project"
    for part in ("config/nlu", "nlu_data/en-US"):
        shutil.copytree(PROJECT_DIR / part, root / part)
    paths = NluPaths(root, root / "models")
    paths.models_dir.mkdir()
    paths.model("en-US").write_bytes(b"model")
    paths.stamp("en-US").write_text(fingerprint(paths, "en-US"))
    assert is_current(paths, "en-US")
    with (root / "nlu_data/en-US/accounts.yml").open("a") as f:
        f.write("    - how much money is on my account right now\n")
    assert not is_current(paths, "en-US")


def test_unreachable_nlu_server_is_unavailable_not_an_error() -> None:
    parser = RasaHttp({"en-US": "http://127.0.0.1:9"}, timeout_s=0.5)
    with pytest.raises(NluUnavailable):
        parser.parse("balance", "en-US")
    with pytest.raises(NluUnavailable):
        parser.parse("余额", "zh-CN")  # no server configured for the language
