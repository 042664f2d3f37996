"""Fixed sentences of the dialog in both languages; service and menu names come from the catalogue."""

from __future__ import annotations

PROMPTS: dict[str, tuple[str, str]] = {
    # greeting and menus
    "greeting": ("Welcome to 95588 phone banking, open around the clock.", "您好，欢迎致电95588电话银行，7乘24小时为您服务。"),
    "menu_speak": ("Tell me what you need, or press a key.", "请直接说出您要办理的业务，或按键选择。"),
    "menu_item": ("For {label}, press {key}.", "{label}请按{key}。"),
    "menu_language": ("中文服务请按{key}。", "For English, press {key}."),
    "menu_nav": ("Press star to repeat, or hash to go back.", "重听请按星号键，返回上一级请按井号键。"),
    "keypad_only": ("Please use your keypad.", "请使用电话按键操作。"),
    "anything_else": ("Is there anything else? Tell me, or press 1 for the main menu, 0 for an agent, "
                      "or 2 to end the call.",
                      "还需要办理其他业务吗？请直接说，或按1返回主菜单，按0转人工服务，按2结束通话。"),
    "what_else": ("What else can I do for you?", "请问还需要办理什么业务？"),
    "goodbye": ("Thank you for calling 95588. Goodbye.", "感谢您致电95588，再见。"),
    "language_switched": ("English service.", "中文服务。"),
    # failures
    "no_input": ("Sorry, I didn't hear anything.", "对不起，没有听到您的声音。"),
    "no_match": ("Sorry, I didn't catch that.", "对不起，我没有听懂。"),
    # repair: unsure requests, families, corrections (voicebot.dialog.repair)
    "examples_hint": ("Sorry, I didn't catch that. You can say, for example, {examples}. Or press a key; "
                      "star repeats the menu.",
                      "对不起，我没有听懂。您可以这样说：{examples}。也可以按键选择，重听菜单请按星号键。"),
    "did_you_mean": ("Did you mean {label}? Say yes or no, or press 1 for yes, 2 for no.",
                     "您是要办理{label}吗？请说“是”或“不是”，也可以按1确认，按2否认。"),
    "which_of_two": ("Did you mean {first}, or {second}? Say which, or press 1 for {first}, 2 for {second}.",
                     "您是要办理{first}，还是{second}？请直接说，或按1选择{first}，按2选择{second}。"),
    "family_which": ("{family}: which one, {options}? Or press {first} to {last}.",
                     "{family}：请问是哪一项，{options}？也可以按{first}到{last}选择。"),
    "not_that": ("All right. Tell me in a few words what you need, for example {examples}. Or press a key; "
                 "star repeats the menu.",
                 "好的。请简单说说您要办理什么，例如：{examples}。也可以按键选择，重听菜单请按星号键。"),
    "corrected": ("All right.", "好的。"),
    "service_corrected": ("All right: {label}.", "好的，为您办理{label}。"),
    "invalid_key": ("Sorry, {key} is not an option here.", "对不起，{key}不是有效的选项。"),
    "too_many_failures": ("Let me put you through to an agent who can help you.", "正在为您转接人工服务，请稍候。"),
    "pin_by_keypad": ("For your security, please enter your PIN on the keypad and never say it aloud.",
                      "为了您的资金安全，请通过电话按键输入密码，不要说出来。"),
    "nlu_down": ("Speech recognition is not available right now, so please use your keypad.",
                 "语音识别暂时不可用，请使用电话按键操作。"),
    "system_error": ("Sorry, we have a technical problem. Nothing has been changed on your accounts. "
                     "Let me put you through to an agent.",
                     "对不起，系统出现故障，您的账户没有任何变动。正在为您转接人工服务。"),
    "not_for_segment": ("Sorry, {label} is not available for your kind of account by phone.",
                        "对不起，您的账户类型不能通过电话办理{label}。"),
    # identification
    "ask_card": ("Please say your card number, or key it in and press hash.",
                 "请说出您的卡号，或按键输入您的卡号，以井号键结束。"),
    "ask_account": ("Please say your corporate account number, or key it in and press hash.",
                    "请说出您的企业账号，或按键输入，以井号键结束。"),
    "ask_pin": ("Please enter your six-digit PIN on the keypad.", "请在电话按键上输入六位密码。"),
    "bad_card": ("A card number has sixteen to nineteen digits.", "卡号应为十六到十九位数字。"),
    "heard_digits": ("I heard {count} digits.", "我听到{count}位数字。"),
    "heard_digits#one": ("I heard {count} digit.", "我听到{count}位数字。"),
    "read_back_number": ("I heard {digits}. Is that right? Say yes or press 1; say no or press 2 to give it again.",
                         "您说的是{digits}，对吗？正确请说“对”或按1，重新输入请说“不对”或按2。"),
    "number_again": ("Please say the number again, or key it in and press hash.",
                     "请再说一遍号码，或用按键输入并以井号键结束。"),
    "bad_pin": ("Your PIN has six digits.", "密码为六位数字。"),
    "auth_ok": ("Thank you, you are identified.", "身份验证成功。"),
    "auth_wrong": ("That card number or PIN is not correct.", "您输入的卡号或密码不正确。"),
    "auth_attempts": ("You have {n} more tries before phone banking is locked.", "您还有{n}次机会，之后电话银行将被锁定。"),
    "auth_attempts#one": ("You have {n} more try before phone banking is locked.", "您还有{n}次机会，之后电话银行将被锁定。"),
    "auth_locked": ("For your security, phone banking is locked for this card.", "为了您的安全，该卡的电话银行已被锁定。"),
    "auth_unregistered": ("This card is not registered for phone banking yet. You can register from the "
                          "personal menu with key 8.", "该卡尚未开通电话银行，您可以在个人客户菜单按8自助注册。"),
    # confirmation and money
    "confirm_keys": ("Press 1 to confirm, or 2 to cancel.", "确认请按1，取消请按2。"),
    "cancelled": ("Cancelled. Nothing has been changed.", "已取消，您的账户没有任何变动。"),
    "ask_amount": ("Please say the amount, or enter it on the keypad using star for the decimal point, then hash.",
                   "请说出金额，或在按键上输入金额，小数点请按星号键，以井号键结束。"),
    "bad_amount": ("That is not an amount I can use. Please enter an amount above zero with at most two decimals.",
                   "金额无效，请输入大于零、最多两位小数的金额。"),
    "over_balance": ("That is more than the {balance} available.", "金额超过了可用余额{balance}。"),
    "over_limit": ("By phone the most you can move at once is {limit}.", "电话银行单笔最高{limit}。"),
    "done_balance": ("Done. Your {currency} balance is now {balance}.", "交易成功，您的{currency}余额为{balance}。"),
    "bank_error": ("Sorry, that could not be done: {reason}. Nothing has been changed.",
                   "对不起，交易未能完成：{reason}。您的账户没有任何变动。"),
    # accounts
    "balance_line": ("Your {currency} account {ending} has {balance}.", "您{ending}的{currency}账户余额为{balance}。"),
    "no_accounts": ("You have no such accounts with us.", "您没有此类账户。"),
    "txn_count": ("You have {n} transactions {period}.", "您{period}共有{n}笔交易。"),
    "txn_count#one": ("You have {n} transaction {period}.", "您{period}共有{n}笔交易。"),
    "txn_none": ("You have no transactions {period}.", "您{period}没有交易。"),
    "txn_line": ("{day}: {direction} {amount}, {what}.", "{day}，{direction}{amount}。"),
    "txn_in": ("received", "收入"),
    "txn_out": ("paid", "支出"),
    "txn_more": ("Those are the latest {shown}.", "以上为最近{shown}笔。"),
    "period_today": ("today", "今天"),
    "period_unposted": ("not yet in your passbook", "未登折"),
    "period_range": ("from {start} to {end}", "从{start}到{end}"),
    "ask_start_date": ("Say a period such as last month, or enter the start date as eight digits, "
                       "year month day, then hash.",
                       "请说出查询时段，比如上个月，或输入八位起始日期，年月日，以井号键结束。"),
    "ask_end_date": ("Enter the end date as eight digits, or press 0 for today.", "请输入八位截止日期，今天请按0。"),
    "bad_date": ("That is not a date I can use.", "日期无效。"),
    # transfers
    "payee_item": ("To send to {alias}, card {ending}, press {key}.", "转给{alias}，卡号{ending}，请按{key}。"),
    "payee_other": ("To enter another card number, press 9.", "输入其他卡号请按9。"),
    "ask_payee_card": ("Please enter the payee's card number, then press hash.", "请输入收款人卡号，以井号键结束。"),
    "payee_unknown": ("That card is not one we can send to.", "该卡号无法收款。"),
    "payee_self": ("You cannot send money to your own account that way.", "不能向本人同一账户转账。"),
    "scope_remote": ("That card is in another city, so this will be a remittance.", "该卡属于外地，将按异地汇款办理。"),
    "scope_local": ("That card is in your city, so this will be a same-city transfer.", "该卡属于本地，将按同城转账办理。"),
    "confirm_transfer": ("You are sending {amount} to {payee}, card {ending}, by {service}.",
                         "您将通过{service}向{payee}，卡号{ending}，转账{amount}。"),
    "payee_card_word": ("the card", "该卡"),
    # bills
    "bill_none": ("You have no {label} due.", "您目前没有待缴的{label}。"),
    "bill_due": ("Your {label} of {amount} is due on {day}.", "您的{label}{amount}，缴费截止日期{day}。"),
    "confirm_bill": ("Pay {amount} for your {label} from your current account?", "从活期账户缴纳{label}{amount}？"),
    "bill_paid": ("Your {label} is paid.", "{label}缴费成功。"),
    # investments
    "invest_action": ("For a quote press 1, to buy press 2, to sell press 3.", "查询行情请按1，买入请按2，卖出请按3。"),
    "product_item": ("For {name}, press {key}.", "{name}请按{key}。"),
    "quote": ("{name} is at {price} per unit. You hold {held}.", "{name}当前价格每份{price}，您持有{held}份。"),
    "ask_units": ("How many units? Say the number or enter it, then hash.", "请说出或输入份数，以井号键结束。"),
    "bad_units": ("Please give a whole number of units.", "请输入整数份数。"),
    "over_holding": ("You hold only {held}.", "您只持有{held}份。"),
    "confirm_invest": ("{side} {units} units of {name} at {price}, {total} in all.",
                       "{side}{name}{units}份，单价{price}，合计{total}。"),
    "confirm_invest#one": ("{side} {units} unit of {name} at {price}, {total} in all.",
                           "{side}{name}{units}份，单价{price}，合计{total}。"),
    "side_buy": ("Buy", "买入"),
    "side_sell": ("Sell", "卖出"),
    "invest_done": ("Your order is complete.", "交易成功。"),
    # foreign exchange
    "rate_line": ("One {name} is {rate} yuan.", "一{name}兑{rate}元人民币。"),
    "fx_side": ("To buy foreign currency with yuan press 1, to sell foreign currency for yuan press 2.",
                "用人民币购买外汇请按1，卖出外汇换人民币请按2。"),
    "currency_item": ("For {name}, press {key}.", "{name}请按{key}。"),
    "ask_fx_amount": ("How many {name}? Say the amount or enter it, then hash.", "请说出或输入{name}金额，以井号键结束。"),
    "confirm_fx": ("{side} {amount} for {cny} at {rate}.", "{side}{amount}，折合人民币{cny}，汇率{rate}。"),
    # cards
    "card_item": ("For your {kind} card {ending}, press {key}.", "{kind}卡{ending}请按{key}。"),
    "kind_debit": ("debit", "借记"),
    "kind_credit": ("credit", "信用"),
    "no_card": ("You have no card for this service.", "您没有可办理此业务的卡。"),
    "confirm_apply": ("Apply for a new credit card, mailed to your registered address?", "申请一张新信用卡，寄送到您登记的地址？"),
    "confirm_replace": ("Replace your card {ending}? The new card is mailed to you.", "更换卡号{ending}的卡？新卡将寄送给您。"),
    "request_done": ("Your request is received. Your reference number is {ref}.", "您的申请已受理，受理编号{ref}。"),
    "ask_activate_card": ("Please enter the number of the card to activate, then hash.", "请输入需要启用的卡号，以井号键结束。"),
    "activated": ("Your card {ending} is now active.", "卡号{ending}的卡已启用。"),
    "already_active": ("Your card {ending} is already active.", "卡号{ending}的卡已处于启用状态。"),
    "ask_lost_card": ("Please say the number of the lost card, or key it in and press hash.",
                      "请说出挂失的卡号，或按键输入，以井号键结束。"),
    "loss_pin_choice": ("To confirm with the card's PIN press 1. If you do not know it, press 2 for a "
                        "provisional report.", "凭密码正式挂失请按1；不知道密码请按2，办理临时口头挂失。"),
    "confirm_loss": ("Block card {ending} now?", "现在冻结卡号{ending}的卡？"),
    "loss_done": ("Card {ending} is blocked. Please visit a branch for a replacement.",
                  "卡号{ending}的卡已挂失。请到网点办理补卡。"),
    "loss_provisional": ("Card {ending} is provisionally blocked until {day}. Please bring your ID to a branch "
                         "before then to complete the report.",
                         "卡号{ending}的卡已临时挂失，有效期至{day}。请在此之前携带身份证件到网点办理正式挂失。"),
    "loss_already": ("Card {ending} is already reported lost.", "卡号{ending}的卡已经挂失。"),
    "card_unknown": ("That card number is not one of ours.", "该卡号不是本行的卡。"),
    "card_status": ("Your credit card {ending}: limit {limit}, owed {owed}, available {available}.",
                    "您的信用卡{ending}：额度{limit}，欠款{owed}，可用额度{available}。"),
    "card_fx_owed": ("You also owe {owed}.", "另有外币欠款{owed}。"),
    "repay_fx_due": ("You owe {owed} on card {ending}, {cny} at today's rate.", "您的卡{ending}外币欠款{owed}，按今日汇率折合{cny}。"),
    "repay_no_fx": ("You have no foreign-currency balance to repay. You owe {owed} in yuan.",
                    "您没有外币欠款。人民币欠款为{owed}。"),
    "repay_nothing": ("You owe nothing on this card.", "您的卡没有欠款。"),
    "repay_choice": ("To repay it all press 1, to repay another amount press 2.", "全额还款请按1，其他金额请按2。"),
    "confirm_repay": ("Repay {amount} on card {ending}, paying {cny} from your current account?",
                      "为卡号{ending}的卡还款{amount}，从活期账户扣款{cny}？"),
    "repaid": ("Your repayment is done.", "还款成功。"),
    "limit_now": ("Your credit limit is {limit}.", "您当前的信用额度为{limit}。"),
    "ask_new_limit": ("What new limit would you like? Say it or enter it, then hash.", "请说出或输入新的信用额度，以井号键结束。"),
    "confirm_limit": ("Change your credit limit from {old} to {new}?", "将信用额度从{old}调整为{new}？"),
    "limit_done": ("Your credit limit is now {new}.", "您的信用额度已调整为{new}。"),
    # region, registration, branches, agents
    "ask_area_code": ("Please enter the area code of your home region, for example 0 1 0 for Beijing, then hash.",
                      "请输入开户地的电话区号，例如北京请输入010，以井号键结束。"),
    "bad_area_code": ("That area code is not one of our regions.", "该区号不是本行的服务地区。"),
    "roamed": ("You are now served by the {name} phone banking system.", "您已接入{name}电话银行系统。"),
    "ask_passbook": ("Please enter your current account passbook number, then hash.", "请输入活期存折账号，以井号键结束。"),
    "confirm_register": ("Register card {ending} for phone banking?", "为卡号{ending}的卡开通电话银行？"),
    "registered": ("Card {ending} is now registered for phone banking.", "卡号{ending}的卡已开通电话银行。"),
    "already_registered": ("Card {ending} is already registered for phone banking.", "卡号{ending}的卡已开通电话银行。"),
    "register_mismatch": ("Those details do not match our records.", "您输入的信息与记录不符。"),
    "branch_line": ("{name}, {address}, open {hours}.", "{name}，地址{address}，营业时间{hours}。"),
    "no_branches": ("I have no branch list for this region; an agent can help.", "暂无该地区网点信息，人工客服可以为您解答。"),
    "agent_item": ("For {label}, press {key}.", "{label}请按{key}。"),
    "agent_connect": ("Connecting you to an agent for {label}. Please hold.", "正在为您转接人工服务：{label}，请稍候。"),
    "agents_busy": ("We are sorry: all our agents are busy.", "非常抱歉，人工坐席全忙。"),
    "offer_callback": ("Shall an agent call you back at this number? Press 1 for yes, or 2 for no.",
                       "需要人工客服稍后回电到本号码吗？需要请按1，不需要请按2。"),
    "callback_booked": ("An agent will call you back as soon as one is free.", "我们将尽快安排人工客服给您回电。"),
    "callback_declined": ("Please call again later.", "请您稍后再拨。"),
}

BANK_ERRORS: dict[str, tuple[str, str]] = {
    "insufficient_funds": ("the balance is not enough", "余额不足"),
    "not_completed": ("the bank could not complete it", "银行未能完成交易"),
    "amount_over_limit": ("the amount is over the phone banking limit", "金额超过电话银行限额"),
    "amount_not_positive": ("the amount must be above zero", "金额必须大于零"),
    "payee_unknown": ("the payee card cannot receive money", "收款卡无法入账"),
    "same_account": ("the payee is the paying account", "收款账户与付款账户相同"),
    "bill_paid": ("the bill is already paid", "账单已缴清"),
    "not_enough_units": ("you do not hold that many units", "持有份数不足"),
    "more_than_owed": ("that is more than you owe", "金额超过欠款"),
    "limit_too_high": ("that limit is above what we can offer by phone", "额度超过电话可调整上限"),
    "limit_too_low": ("that limit is below what you owe", "额度低于欠款"),
    "card_blocked": ("the card is blocked", "该卡已冻结"),
    "card_not_yours": ("that card is not in your name", "该卡不属于您"),
    "no_account": ("you have no account for that", "您没有相应账户"),
    "too_many_reports": ("too many cards were reported from this line today; an agent can help you",
                         "今日本线路挂失次数过多，请转人工服务"),
}


def text(name: str, lang: str, /, **values: object) -> str:
    """The prompt in ``lang``; a ``name#one`` form is used when its count (n, count, units) is one."""
    en, zh = PROMPTS[name]
    if f"{name}#one" in PROMPTS and any(str(values.get(k)) in ("1", "一") for k in _COUNTS):
        en, zh = PROMPTS[f"{name}#one"]
    return (en if lang == "en-US" else zh).format(**values)


_COUNTS = ("n", "count", "units")


def bank_error(code: str, lang: str) -> str:
    en, zh = BANK_ERRORS.get(code, ("the bank could not do it", "银行无法办理"))
    return en if lang == "en-US" else zh
