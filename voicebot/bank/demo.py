"""The demo bank of ../shared/spec/interfaces.md, recreated by ``voicebot db seed --demo``."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from voicebot.bank.pins import hash_pin
from voicebot.bank.schema import (
    Account,
    Bill,
    Branch,
    Card,
    Credential,
    Customer,
    FxRate,
    Product,
    Region,
    metadata,
)
from voicebot.bank.schema import Payee as PayeeRow
from voicebot.bank.schema import Transaction as Txn

REGIONS = [  # area code, English, Chinese, hosted centrally (small branches, as in the seed)
    ("010", "Beijing", "北京", False), ("021", "Shanghai", "上海", False),
    ("020", "Guangzhou", "广州", False), ("852", "Hong Kong", "香港", False),
    ("0971", "Qinghai", "青海", True), ("0951", "Ningxia", "宁夏", True), ("0898", "Hainan", "海南", True),
]
FX_RATES = {"USD": "7.10", "EUR": "7.70", "HKD": "0.91", "JPY": "0.047"}
PRODUCTS = [  # code, kind, English, Chinese, CNY price in fen
    ("601398", "stock", "ICBC A shares", "工商银行A股", 5_20),
    ("000001", "stock", "Ping An Bank shares", "平安银行股票", 11_35),
    ("MMF01", "fund", "money market fund", "货币市场基金", 1_00),
    ("IDX300", "fund", "CSI 300 index fund", "沪深300指数基金", 1_48),
    ("TB2026", "bond", "2026 savings bond", "2026年储蓄国债", 100_00),
    ("AU999", "gold", "gold, per gram", "积存金(每克)", 560_00),
]


DEMO_MOBILE = "13800138000"  # the first demo customer's own mobile number
OTHER_MOBILE = "13912345678"  # a number with a bill due whose holder is not a customer


def seed_demo(engine: Engine, today: date | None = None) -> None:
    """Empty every table and write the demo customers, accounts, cards, bills and market data."""
    today = today or date.today()
    with Session(engine) as s, s.begin():
        for table in reversed(metadata.sorted_tables):
            s.execute(delete(table))
        for code, en, zh, hosted in REGIONS:
            s.add(Region(area_code=code, name_en=en, name_zh=zh, hosted=hosted))
        s.flush()
        s.add_all([
            Branch(area_code="010", name_en="Xidan branch", name_zh="西单支行",
                   address_en="one hundred and twenty Xidan North Street", address_zh="西单北大街一百二十号",
                   hours_en="nine am to five pm, Monday to Sunday", hours_zh="每天上午九点到下午五点"),
            Branch(area_code="010", name_en="Financial Street branch", name_zh="金融街支行",
                   address_en="fifty five Fuxingmen Inner Street", address_zh="复兴门内大街五十五号",
                   hours_en="nine am to five pm, Monday to Friday", hours_zh="周一至周五上午九点到下午五点"),
            Branch(area_code="021", name_en="Lujiazui branch", name_zh="陆家嘴支行",
                   address_en="nine Yincheng Road, Pudong", address_zh="浦东银城路九号",
                   hours_en="nine am to five pm, Monday to Saturday", hours_zh="周一至周六上午九点到下午五点"),
        ])
        for cur, rate in FX_RATES.items():
            s.add(FxRate(currency=cur, cny_per_unit_micro=int(float(rate) * 1_000_000 + 0.5)))
        for code, kind, en, zh, price in PRODUCTS:
            s.add(Product(code=code, kind=kind, name_en=en, name_zh=zh, price_minor=price))
        s.flush()

        alice = Customer(kind="personal", name="Demo Customer One", home_area_code="010")
        bob = Customer(kind="personal", name="Demo Customer Two", home_area_code="021")
        corp = Customer(kind="corporate", name="Demo Trading Co.", home_area_code="010")
        s.add_all([alice, bob, corp])
        s.flush()

        a_cny = Account(number="0200000000000100", customer_id=alice.id, currency="CNY", kind="current",
                        balance_minor=12_345_67)
        a_usd = Account(number="0200000000000101", customer_id=alice.id, currency="USD", kind="fx",
                        balance_minor=500_00)
        b_cny = Account(number="0200000000000300", customer_id=bob.id, currency="CNY", kind="current",
                        balance_minor=3_000_00)
        c_cny = Account(number="0200000000000010", customer_id=corp.id, currency="CNY", kind="corporate",
                        balance_minor=1_000_000_00)
        s.add_all([a_cny, a_usd, b_cny, c_cny])
        s.flush()
        s.add_all([
            Card(number="6222020000000001", customer_id=alice.id, kind="debit", account_id=a_cny.id),
            Card(number="6225880000000002", customer_id=alice.id, kind="credit", credit_limit_minor=20_000_00,
                 owed_minor=1_200_00),
            Card(number="6222020000000003", customer_id=bob.id, kind="debit", account_id=b_cny.id),
            Credential(identifier="6222020000000001", customer_id=alice.id, pin_hash=hash_pin("135790"),
                       registered=True),
            Credential(identifier="6222020000000003", customer_id=bob.id, pin_hash=hash_pin("112233"),
                       registered=True),
            Credential(identifier="0200000000000010", customer_id=corp.id, pin_hash=hash_pin("246810"),
                       registered=True),
            PayeeRow(customer_id=alice.id, alias_en="mother", alias_zh="妈妈", card_number="6222020000000003",
                     area_code="010"),
        ])
        due = today + timedelta(days=10)
        for bill_type, amount, reference in (("electricity", 86_50, None), ("water", 32_00, None),
                                             ("mobile", 58_00, DEMO_MOBILE)):
            s.add(Bill(customer_id=alice.id, bill_type=bill_type, amount_minor=amount, due_on=due, reference=reference))
        # a mobile number whose holder banks elsewhere: its bill is paid by naming the number
        s.add(Bill(customer_id=None, bill_type="mobile", amount_minor=45_00, due_on=due, reference=OTHER_MOBILE))
        # A little history so the statement services have something to read.
        def at(days: int, hour: int) -> datetime:
            return datetime.combine(today - timedelta(days=days), time(hour))

        s.add_all([
            Txn(account_id=a_cny.id, booked_at=at(0, 9), amount_minor=-45_00, description="supermarket",
                in_passbook=False),
            Txn(account_id=a_cny.id, booked_at=at(3, 12), amount_minor=-300_00, description="cash withdrawal",
                in_passbook=False),
            Txn(account_id=a_cny.id, booked_at=at(20, 10), amount_minor=8_000_00, description="salary"),
            Txn(account_id=a_cny.id, booked_at=at(40, 15), amount_minor=-2_500_00, description="rent"),
            Txn(account_id=a_usd.id, booked_at=at(15, 11), amount_minor=500_00, description="buy USD"),
            Txn(account_id=c_cny.id, booked_at=at(0, 10), amount_minor=50_000_00, description="customer payment",
                in_passbook=False),
            Txn(account_id=c_cny.id, booked_at=at(7, 16), amount_minor=-12_000_00, description="supplier invoice"),
        ])
    from voicebot.console.operators import DEMO_OPERATOR, add_operator

    add_operator(engine, *DEMO_OPERATOR)  # the console's demo sign-in, stated in README
