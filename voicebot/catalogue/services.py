"""The 95588 service catalogue: the one list the key menu, prompts and NLU map derive from.

Ids are the product contract (../shared/spec/service-catalogue.md). Key paths are full
paths from the entry menu: "1" personal, "2" corporate; "3" is a shortcut to report a lost
card in one key press (the catalogue asks for it within two turns of the greeting).
"""

from __future__ import annotations

from voicebot.catalogue.model import AgentReason, Group, Intent, Service


def _t(en: str, zh: str) -> dict[str, str]:
    return {"en-US": en, "zh-CN": zh}


def _kw(en: str, zh: str) -> dict[str, tuple[str, ...]]:
    return {"en-US": tuple(en.split("|")), "zh-CN": tuple(zh.split("|"))}


PERSONAL = "1"
CORPORATE = "2"

GROUPS: tuple[Group, ...] = (
    Group("", _t("main menu", "主菜单")),
    Group(PERSONAL, _t("personal customers", "个人客户"), _kw("personal", "个人")),
    Group(CORPORATE, _t("corporate customers", "企业客户"), _kw("corporate|company|business", "企业|公司|对公")),
    Group("11", _t("account enquiries", "账户查询"), _kw("account enquiry|account information", "账户查询|账户信息")),
    Group("12", _t("transfers and remittances", "转账汇款"), _kw("transfer|remittance", "转账|汇款")),
    Group("13", _t("bill payments", "缴费"), _kw("bill|bills|pay a bill", "缴费|账单"),
          intent="family.bill"),
    Group("14", _t("investments", "投资理财"), _kw("invest|investment", "投资|理财"), intent="family.invest"),
    Group("15", _t("foreign exchange", "外汇业务"), _kw("foreign exchange|forex", "外汇"), intent="family.fx"),
    Group("16", _t("card services", "信用卡及银行卡服务"), _kw("card services", "卡服务|信用卡服务"),
          intent="family.card"),
)

SERVICES: tuple[Service, ...] = (
    Service("account.balance", _t("balance enquiry", "余额查询"), "accounts.balance", ("111", "21"),
            keywords=_kw("balance|how much money|how much do i have", "余额|还有多少钱|多少钱")),
    Service("account.today", _t("today's transactions", "当日明细"), "accounts.today", ("112", "22"),
            keywords=_kw("today's transactions|transactions today|today", "当日明细|今天的交易|今天")),
    Service("account.history", _t("transaction history", "历史明细"), "accounts.history", ("113", "23"),
            keywords=_kw("history|past transactions|statement", "历史明细|历史交易|以前的交易")),
    Service("account.unposted", _t("transactions not yet in your passbook", "未登折明细"),
            "accounts.unposted", ("114",), keywords=_kw("passbook|not posted|unposted", "未登折|存折")),
    Service("transfer.local", _t("same-city transfer", "同城转账"), "transfers.transfer", ("121",),
            moves_money=True, params={"scope": "local"},
            keywords=_kw("transfer|send money|send", "转账|转钱|转给")),
    Service("transfer.remote", _t("remittance to another city", "异地汇款"), "transfers.transfer", ("122",),
            moves_money=True, params={"scope": "remote"},
            keywords=_kw("remittance|another city|remit", "汇款|异地|外地")),
    Service("bill.landline", _t("landline phone bill", "电话费"), "bills.bill", ("131",), moves_money=True,
            params={"bill_type": "landline"}, keywords=_kw("landline|phone bill|telephone", "电话费|座机")),
    Service("bill.mobile", _t("mobile phone bill", "手机费"), "bills.bill", ("132",), moves_money=True,
            params={"bill_type": "mobile", "by_number": True}, keywords=_kw("mobile|cell phone|top up", "手机费|话费|充值")),
    Service("bill.water", _t("water bill", "水费"), "bills.bill", ("133",), moves_money=True,
            params={"bill_type": "water"}, keywords=_kw("water", "水费")),
    Service("bill.electricity", _t("electricity bill", "电费"), "bills.bill", ("134",), moves_money=True,
            params={"bill_type": "electricity"}, keywords=_kw("electricity|power bill|electric", "电费")),
    Service("bill.gas", _t("gas bill", "燃气费"), "bills.bill", ("135",), moves_money=True,
            params={"bill_type": "gas"}, keywords=_kw("gas", "燃气|煤气")),
    Service("invest.stock", _t("stocks", "股票"), "invest.trade", ("141",), moves_money=True,
            params={"kind": "stock"}, keywords=_kw("stock|stocks|shares", "股票")),
    Service("invest.fund", _t("funds", "基金"), "invest.trade", ("142",), moves_money=True,
            params={"kind": "fund"}, keywords=_kw("fund|funds", "基金")),
    Service("invest.bond", _t("bonds", "债券"), "invest.trade", ("143",), moves_money=True,
            params={"kind": "bond"}, keywords=_kw("bond|bonds", "债券|国债")),
    Service("invest.gold", _t("gold", "黄金"), "invest.trade", ("144",), moves_money=True,
            params={"kind": "gold"}, keywords=_kw("gold", "黄金")),
    Service("fx.rates", _t("exchange rates", "汇率查询"), "fx.rates", ("151",), auth=False,
            keywords=_kw("exchange rate|rates|rate", "汇率")),
    Service("fx.trade", _t("buying or selling foreign currency", "实时买卖外汇"), "fx.trade", ("152",),
            moves_money=True, keywords=_kw("buy dollars|sell dollars|exchange money|buy foreign currency",
                                            "买外汇|卖外汇|换美元|购汇|结汇")),
    Service("fx.balance", _t("foreign currency balances", "外币余额"), "accounts.balance", ("153",),
            params={"foreign": "1"}, keywords=_kw("foreign currency balance|dollar balance", "外币余额|美元余额")),
    Service("fx.history", _t("foreign exchange transactions", "外汇交易明细"), "accounts.history", ("154",),
            params={"foreign": "1"}, keywords=_kw("foreign exchange transactions|fx history", "外汇明细|外汇交易明细")),
    Service("card.apply", _t("credit card applications", "申请信用卡"), "cards.apply", ("161",),
            moves_money=False, keywords=_kw("apply|new card|new credit card", "办卡|申请信用卡|申请")),
    Service("card.replace", _t("card replacement", "换卡"), "cards.replace", ("162",),
            keywords=_kw("replace|replacement|damaged card", "换卡|补卡")),
    Service("card.activate", _t("card activation", "卡片启用"), "cards.activate", ("163",),
            keywords=_kw("activate|activation", "激活|启用|开卡")),
    Service("card.report_loss", _t("reporting a lost or stolen card", "挂失"), "cards.report_loss", ("164", "3"),
            auth=False, keywords=_kw("lost|stolen|report loss|lost my card|freeze|block my card|block my account|"
                         "put a hold on|hold on my card|hold on my account", "挂失|丢了|丢失|被偷|冻结|止付")),
    Service("card.account", _t("your credit card account", "信用卡账户查询"), "cards.account", ("165",),
            keywords=_kw("credit card account|credit card balance|how much do i owe", "信用卡账户|信用卡余额|欠款")),
    Service("card.repay_fx", _t("repaying a foreign currency card balance with yuan", "人民币购汇还款"),
            "cards.repay", ("166",), moves_money=True,
            keywords=_kw("repay|pay off my credit card|repayment", "还款|购汇还款|还信用卡")),
    Service("card.limit", _t("credit limit changes", "调整信用额度"), "cards.limit", ("167",),
            keywords=_kw("credit limit|limit|raise my limit", "额度|信用额度|提额")),
    Service("roaming", _t("roaming to your home region", "异地漫游"), "region.roaming", ("17",), auth=False,
            keywords=_kw("roaming|home region|roam", "漫游|异地漫游")),
    Service("register", _t("phone banking registration", "注册电话银行"), "region.register", ("18",),
            auth=False, keywords=_kw("register|sign up|enrol", "注册|开通")),
    Service("agent", _t("a human agent", "人工服务"), "agent.agent", ("0", "10", "20"), auth=False,
            keywords=_kw("agent|operator|human|person|representative", "人工|客服|转人工")),
    Service("branch_info", _t("branch addresses and opening hours", "网点及营业时间"), "region.branch_info",
            auth=False, keywords=_kw("branch|opening hours|address|open", "网点|营业时间|地址")),
    Service("complaint", _t("complaints", "投诉建议"), "agent.complaint", auth=False,
            keywords=_kw("complaint|complain", "投诉|建议")),
)

AGENT_REASONS: tuple[AgentReason, ...] = (
    AgentReason("emergency_loss", "1", _t("an urgent verbal loss report", "紧急口头挂失")),
    AgentReason("consult", "2", _t("questions about our services", "业务咨询")),
    AgentReason("complaint", "3", _t("complaints and suggestions", "投诉建议")),
    AgentReason("branch_info", "4", _t("branch information", "网点信息")),
    AgentReason("new_products", "5", _t("new products", "新业务介绍")),
)

# Keys with the same meaning at every menu, and the entry menu's language key.
REPEAT_KEY = "*"
BACK_KEY = "#"
LANGUAGE_KEY = "9"

INTENTS: tuple[Intent, ...] = (
    Intent("affirm", _kw("yes|yeah|yep|correct|right|confirm|sure|ok|okay", "是|是的|对|对的|好|好的|确认|可以|没错")),
    Intent("deny", _kw("no|nope|wrong|cancel|don't|do not|not", "不|不是|不对|取消|不要|错")),
    Intent("repeat", _kw("repeat|say again|again|pardon", "重复|再说一遍|没听清"), navigation=True),
    Intent("back", _kw("back|go back|previous", "返回|上一级|回去"), navigation=True),
    Intent("main_menu", _kw("main menu|start over|menu", "主菜单|回到主菜单|菜单"), navigation=True),
    Intent("goodbye", _kw("goodbye|bye|hang up|that's all|nothing else", "再见|拜拜|挂了|没有了|不用了"), navigation=True),
    # "hang on, let me get my card": the caller needs a moment (it was heard as a goodbye, and hung up)
    Intent("wait", _kw("hold on|hang on|one moment|just a second|give me a moment", "等一下|稍等|等等|等会儿"),
           navigation=True),
    Intent("greet", _kw("hello|hi|good morning", "你好|您好|喂")),
    Intent("switch_language", _kw("chinese|mandarin|english|中文", "英文|英语|english|中文")),
    Intent("out_of_scope", {"en-US": (), "zh-CN": ()}),
    # a matter of this bank's that no service here answers (a declined card, a pending transfer, a
    # fee, a PIN, the app's log-in): an agent takes it; everyday requests stay out_of_scope
    Intent("banking_other", {"en-US": (), "zh-CN": ()}, hands_over="consult"),
)
