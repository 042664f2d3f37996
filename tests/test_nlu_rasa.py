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

import pytest

from tests.calls import DEMO_CARD, DEMO_PIN, Call
from voicebot.bank.bank import Bank
from voicebot.catalogue import catalogue
from voicebot.config import PROJECT_DIR
from voicebot.dialog.context import DialogSettings
from voicebot.nlu.data import load_examples
from voicebot.nlu.evaluation import evaluate
from voicebot.nlu.rasa_backend import RasaInProcess
from voicebot.nlu.training import NluPaths, train

PATHS = NluPaths(PROJECT_DIR, PROJECT_DIR / "models" / "nlu")
TARGET = {"en-US": 0.97, "zh-CN": 0.95}

# Three spoken phrasings per catalogue service and language (not copied from the training data).
PHRASES: dict[str, dict[str, tuple[str, str, str]]] = {
    "en-US": {
        "account.balance": ("how much money have i got", "check the balance on my account", "balance please"),
        "account.today": ("what went through my account today", "today's transactions please",
                          "did i spend anything today"),
        "account.history": ("my transactions from last month", "i need my account history",
                            "what did i spend in the past few weeks"),
        "account.unposted": ("what is missing from my passbook", "unposted transactions please",
                             "entries not yet in the passbook"),
        "transfer.local": ("send two hundred yuan to my mother", "i want to transfer some money",
                           "transfer money to my mum please"),
        "transfer.remote": ("i need to send money to another city", "remit money to shanghai",
                            "make a remittance please"),
        "bill.landline": ("i want to pay the landline bill", "home telephone bill please",
                          "pay my fixed phone"),
        "bill.mobile": ("top up my mobile please", "pay the cell phone bill", "recharge my phone credit"),
        "bill.water": ("pay the water bill", "how much is water this month", "water charges please"),
        "bill.electricity": ("pay the electricity bill", "my power bill please", "electric bill payment"),
        "bill.gas": ("pay the gas bill", "gas charges for my home", "i owe money for gas"),
        "invest.stock": ("i want to buy some shares", "what's the stock price", "sell my stocks"),
        "invest.fund": ("buy some fund units", "how much is the money market fund", "redeem my fund"),
        "invest.bond": ("buy a treasury bond", "bond prices please", "i want government bonds"),
        "invest.gold": ("buy some gold", "what's gold worth today", "sell my gold"),
        "fx.rates": ("what's the rate for the euro", "dollar exchange rate today", "how much is one yen"),
        "fx.trade": ("i'd like to buy us dollars", "exchange yuan into euros", "sell my dollars for rmb"),
        "fx.balance": ("how many dollars are in my account", "my foreign currency balance",
                       "what's my euro balance"),
        "fx.history": ("my foreign exchange history", "dollar account transactions",
                       "list my currency exchanges"),
        "card.apply": ("i'd like a new credit card", "apply for a credit card please", "can i get a credit card"),
        "card.replace": ("my card is broken i need a new one", "replace my damaged card", "my card has expired"),
        "card.activate": ("activate my new card", "i want to activate the card i got", "card activation please"),
        "card.report_loss": ("i lost my card", "my card has been stolen", "block my card please"),
        "card.account": ("how much do i owe on my credit card", "my credit card balance",
                         "how much credit is available"),
        "card.repay_fx": ("i want to repay my credit card", "pay off my card balance", "credit card repayment"),
        "card.limit": ("raise my credit limit", "i want a higher limit", "change my card limit"),
        "roaming": ("i'm calling from another city", "roaming service please", "my account is in another city"),
        "register": ("register me for phone banking", "i want to sign up for phone banking",
                     "how do i register"),
        "agent": ("let me talk to a person", "connect me to an agent", "customer service please"),
        "branch_info": ("where is your nearest branch", "what are the opening hours", "branch address please"),
        "complaint": ("i want to make a complaint", "i'd like to complain about the service",
                      "your service is bad i'm complaining"),
    },
    "zh-CN": {
        "account.balance": ("我卡里还剩多少钱", "查一下账户余额", "余额多少"),
        "account.today": ("今天有什么交易", "查今天的明细", "今天花钱了吗"),
        "account.history": ("上个月的交易明细", "查历史交易", "过去几周的明细"),
        "account.unposted": ("存折上没登的明细", "查一下未登折的交易", "存折还没打印的"),
        "transfer.local": ("给妈妈转两百块", "我想转账", "帮我给我妈转钱"),
        "transfer.remote": ("往外地汇钱", "汇款到上海", "我要办异地汇款"),
        "bill.landline": ("交座机费", "家里固话的费用", "交一下固定电话费"),
        "bill.mobile": ("给手机充值", "交手机话费", "充一下话费"),
        "bill.water": ("交水费", "这个月水费多少", "缴一下水费"),
        "bill.electricity": ("交电费", "这个月电费多少", "缴一下电费"),
        "bill.gas": ("交燃气费", "这个月煤气费多少", "缴一下天然气费"),
        "invest.stock": ("买点股票", "股价多少", "卖掉我的股票"),
        "invest.fund": ("买点基金", "货币基金多少钱", "赎回基金"),
        "invest.bond": ("买国债", "债券价格", "我想买债券"),
        "invest.gold": ("买点黄金", "今天金价", "卖黄金"),
        "fx.rates": ("欧元汇率多少", "今天美元汇率", "查一下汇率"),
        "fx.trade": ("我想买美元", "人民币换欧元", "卖掉美元换人民币"),
        "fx.balance": ("我有多少美元", "外币账户余额", "查美元余额"),
        "fx.history": ("外汇交易记录", "美元账户的明细", "查一下换汇记录"),
        "card.apply": ("我想办一张信用卡", "申请信用卡", "怎么办信用卡"),
        "card.replace": ("卡坏了要换", "换一张新卡", "我的卡过期了"),
        "card.activate": ("激活新卡", "我要开卡", "卡片启用"),
        "card.report_loss": ("我的卡丢了", "卡被偷了", "我要挂失"),
        "card.account": ("信用卡欠多少钱", "信用卡账户查询", "可用额度多少"),
        "card.repay_fx": ("还信用卡", "我要还款", "信用卡购汇还款"),
        "card.limit": ("提高信用额度", "我想提额", "调整额度"),
        "roaming": ("我在外地", "异地漫游", "我的卡是外地开的"),
        "register": ("注册电话银行", "开通电话银行", "我要注册"),
        "agent": ("转人工", "我要人工服务", "找客服"),
        "branch_info": ("最近的网点在哪", "营业时间是几点", "网点地址"),
        "complaint": ("我要投诉", "服务太差我要投诉", "提个意见"),
    },
}


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
