// The console in English or Chinese: the language is the operator's choice (the switch every
// page's header gets, kept in a cookie), else the browser's first preference (zh* -> zh-CN).
// Pages are written in English; text nodes and labelling attributes are looked up in ZH by their
// English text, and page scripts say their own sentences through i18n.t("... {name} ...", {name}).
// Dates, times and numbers are formatted for the language (Intl).
(() => {
  const LANGS = ["en-US", "zh-CN"];
  const ZH = {
    // every page
    "Sign out": "退出登录", "Sign in": "登录", "Name": "用户名", "Password": "密码", "Language": "语言",
    "Wrong name or password.": "用户名或密码错误。", "95588 voicebot console": "95588 智能语音控制台",
    "voicebot console: sign in": "智能语音控制台：登录", "Browser phone": "网页电话", "Agent desk": "坐席工作台",
    "NLU inbox": "语义标注箱", "Wallboard": "监控大屏", "Reports": "统计报表", "Quality review": "质检",
    "{name} ({role})": "{name}（{role}）", "agent": "坐席", "supervisor": "班长", "trainer": "语义训练师",
    "qa": "质检员", "English": "English", "中文": "中文",
    // browser phone
    "voicebot console: browser phone": "智能语音控制台：网页电话", "95588 browser phone": "95588 网页电话",
    "call": "通话", "Call": "拨打", "Hang up": "挂断", "Not in a call.": "未在通话中。", "keys entered": "已按键",
    "keypad": "拨号键盘", "transcript": "通话记录", "Conversation": "对话", "In a call.": "通话中。",
    "Enter your PIN on the keypad (shown as dots).": "请用键盘输入密码（显示为圆点）。", "Listening.": "正在聆听。",
    "{id}: {status}": "{id}：{status}", "put through to an agent ({reason})": "已转人工（{reason}）",
    "The call has ended.": "通话已结束。", "No microphone: {error}. Use the keypad.": "无法使用麦克风：{error}。请使用按键。",
    "You hung up.": "您已挂断。",
    // agent desk
    "voicebot console: agent desk": "智能语音控制台：坐席工作台", "95588 agent desk": "95588 坐席工作台",
    "availability": "在线状态", "Pool": "坐席组", "Set available": "置闲", "Set away": "离开",
    "Away: no calls are offered to you.": "离开：不会为您分配来电。", "Pools since the console started": "本次启动以来各坐席组",
    "pool figures": "坐席组数据", "pool": "坐席组", "offered": "呼入", "answered": "接听", "rate": "接通率",
    "median": "中位数", "screen pop": "弹屏",
    "No caller waiting. A call handed over to your pool appears here.": "暂无等待的来电。转给您所在坐席组的来电会显示在这里。",
    "Accept": "接听", "Decline": "拒接", "Conversation with the bot": "客户与机器人的对话",
    "central (head office)": "总行集中坐席", "On a call.": "通话中。",
    "Available in pool {pool}: calls handed to it pop up here.": "已在坐席组 {pool} 置闲：转入该组的来电会在此弹屏。",
    "SIP seats: {seats}": "SIP 坐席：{seats}",
    "This console answers no agent pool (started with --no-desk).": "本控制台不接听任何坐席组（以 --no-desk 启动）。",
    "Incoming: {reason}": "来电：{reason}", "caller put through": "客户转入",
    "Context signed by the bot: checked.": "机器人签名的来电信息：已验证。",
    "Context not signed (no shared secret configured): treat it with care.": "来电信息未签名（未配置共享密钥）：请谨慎对待。",
    "The context failed its check.": "来电信息验证失败。", "Customer": "客户", "not identified": "未识别",
    "Verified": "身份验证", "yes, by PIN": "是，已验证密码", "yes, by PIN ({kind})": "是，已验证密码（{kind}）", "no": "否",
    "Caller": "来电号码", "Done this call": "本次通话已办理", "nothing yet": "暂无", "Region": "地区",
    "Waiting": "等待时长", "{n} s": "{n} 秒", "The call was withdrawn: {why}.": "来电已撤回：{why}。",
    "Connected: {reason}": "已接通：{reason}", "caller": "客户",
    "Disconnected from the console; reconnecting…": "与控制台的连接已断开，正在重连…", "Connecting…": "正在接通…",
    // NLU inbox
    "voicebot console: NLU inbox": "智能语音控制台：语义标注箱", "95588 NLU inbox": "95588 语义标注箱",
    "inbox": "标注箱", "unsure turns": "待确认的语句",
    "Caller turns the bot was unsure about (masked). Take a guess, choose another intent, or mark the turn out of scope: labels go to":
      "机器人没有把握的客户语句（已脱敏）。请选择一个推测、选择其他意图，或标记为超出范围：标注写入",
    ", checked before they are kept. Then retrain: the new model is used only if it is not worse on the held-out and outside sentences.":
      "，保存前会先校验。然后重新训练：新模型只有在留出集和外部语句上不变差时才会启用。",
    "Retrain and compare": "重新训练并比较", "said yes to the guess": "确认了推测", "said no to the guess": "否定了推测",
    "chose from the family": "从同类服务中选择", "pressed a key instead": "改用按键", "asked for an agent": "要求转人工",
    "said something else": "换了说法", "said nothing": "没有说话", "hung up": "挂机",
    "{kind} at {step}; then {then}; {at}": "{kind}，于 {step}；随后{then}；{at}",
    "{status} as {intent} ({file})": "{status}，意图 {intent}（{file}）", "another intent": "其他意图",
    "Label": "标注", "Out of scope": "超出范围", "Dismiss": "忽略", "{n} turn(s) waiting.": "{n} 条待处理。",
    "Nothing waiting.": "没有待处理的语句。", "Training a candidate and comparing it with the model in use…": "正在训练候选模型，并与当前模型比较…",
    // wallboard
    "voicebot console: wallboard": "智能语音控制台：监控大屏", "95588 wallboard": "95588 监控大屏", "today": "今日",
    "in progress": "进行中", "waiting for an agent": "等待人工", "calls today": "今日来电", "served by the bot": "机器人自助完成",
    "time to answer (median / p90)": "人工应答时长（中位数 / 90%）", "overflows to head office": "溢出至总行",
    "hung up waiting": "等待中挂机", "bot reply (p50 / p90)": "机器人响应（50% / 90%）", "pools": "坐席组",
    "Agent pools": "坐席组", "available": "空闲", "busy": "忙碌", "away": "离开", "survey today": "今日满意度",
    "Transfers by reason": "转人工原因", "calls in progress": "进行中的通话", "Calls in progress": "进行中的通话",
    "channel": "渠道", "language": "语言", "region": "地区", "step": "步骤", "state": "状态", "duration": "时长",
    "waiting": "等待", "(target: {target} answered)": "（目标：接通率 {target}）", "unknown": "未知", "none today": "今日暂无",
    "Updated {time}.": "更新于 {time}。", "Connection lost; retrying…": "连接中断，正在重试…",
    // reports
    "voicebot console: reports": "智能语音控制台：统计报表", "95588 reports": "95588 统计报表", "period": "统计期间",
    "From": "从", "to": "至", "Show": "查询", "charts": "图表", "calls per region": "各地区来电量",
"agent answer rate per pool and hour": "各坐席组分时接通率",
    "hosted branches": "托管分行", "Hosted branches: per-transaction billing": "托管分行：按笔计价",
    "CSV": "CSV", "transactions": "交易笔数", "price": "单价", "amount": "金额", "regions and services": "地区与服务",
    "Per region and service": "按地区和服务", "service": "服务", "calls": "来电", "self-service transactions": "自助交易",
    "transfers": "转人工", "agent minutes": "人工分钟数", "Answer rate per pool and hour": "各坐席组分时接通率",
    "hour": "时段", "Caller surveys after an agent, per pool, region and hour": "人工服务后的客户评价（按坐席组、地区和时段）",
    "surveys": "评价数", "average (1-5)": "平均分（1-5）", "{calls} calls from {first} to {last}.": "{first} 至 {last} 共 {calls} 通来电。",
    // quality review
    "voicebot console: quality review": "智能语音控制台：质检", "95588 quality review": "95588 质检",
    "find calls": "查找通话", "Day": "日期", "Service": "服务", "Outcome": "结果", "Agent pool": "坐席组",
    "Survey": "满意度", "any": "全部", "Find": "查找", "start": "开始时间", "services": "服务", "outcome": "结果", "survey": "满意度",
    "recording": "录音", "not recorded": "无录音", "{n} call(s) on {day}.": "{day} 共 {n} 通。", "Call {id}": "通话 {id}",
    "Play the call": "播放录音", "recording timeline: paused spans marked": "录音时间轴：已标出暂停区间",
    "Paused for card data: {spans}.": "采集卡信息时已暂停录音：{spans}。", "No pause: no card data was collected.": "未暂停：本次通话未采集卡信息。",
    "This call was not recorded.": "本次通话没有录音。", "Checklist": "检查项", "Comment": "备注", "Save the review": "保存评分",
    "Reviews": "评分记录", "Saved: {score}%": "已保存：{score}%", "audit log": "审计日志",
    "Audit log: every playback and export": "审计日志：每一次播放与导出", "Refresh": "刷新", "when": "时间", "operator": "操作员",
    "role": "角色", "action": "操作", "from": "来源", "self_service": "自助完成", "transferred": "转人工", "abandoned": "放弃",
    "failed": "失败", "self service": "自助服务中", "with agent": "人工服务中", "queued": "排队中",
    "in the queue": "排队中", "longest wait in the queue": "排队最长等待", "Callers who waited in the agent queue": "排队等待人工的客户",
    "call-backs": "预约回电", "average wait (s)": "平均等待（秒）", "longest wait (s)": "最长等待（秒）", "play": "播放", "export": "导出", "sip": "SIP", "browser": "网页",
  };
  const cookie = document.cookie.split("; ").find((c) => c.startsWith("vb_lang="));
  const chosen = cookie ? decodeURIComponent(cookie.slice(8)) : null;
  const preferred = (navigator.languages || [navigator.language || "en-US"])
    .map((l) => (l.toLowerCase().startsWith("zh") ? "zh-CN" : l.toLowerCase().startsWith("en") ? "en-US" : null))
    .find(Boolean);
  const lang = LANGS.includes(chosen) ? chosen : preferred || "en-US";

  function t(text, vars) {
    let out = lang === "zh-CN" && ZH[text] !== undefined ? ZH[text] : text;
    for (const [key, value] of Object.entries(vars || {})) out = out.split(`{${key}}`).join(String(value));
    return out;
  }

  function translate(root) {
    if (lang === "en-US") return;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (!parent || ["SCRIPT", "STYLE", "CODE", "PRE"].includes(parent.tagName)) continue;
      const key = node.nodeValue.replace(/\s+/g, " ").trim();
      if (key && ZH[key] !== undefined) node.nodeValue = node.nodeValue.replace(/\S[\s\S]*\S|\S/, ZH[key]);
    }
    for (const el of root.querySelectorAll("[placeholder], [title], [aria-label], [alt]")) {
      for (const attr of ["placeholder", "title", "aria-label", "alt"]) {
        const value = el.getAttribute(attr);
        if (value && ZH[value] !== undefined) el.setAttribute(attr, ZH[value]);
      }
    }
  }

  function languageSwitch() {
    const header = document.querySelector("header") || document.querySelector("main");
    if (!header) return;
    const select = document.createElement("select");
    select.id = "ui-lang";
    select.setAttribute("aria-label", lang === "zh-CN" ? "界面语言" : "page language");
    for (const [value, label] of [["en-US", "English"], ["zh-CN", "中文"]]) select.add(new Option(label, value));
    select.value = lang;
    select.onchange = () => {
      document.cookie = `vb_lang=${select.value}; path=/; max-age=31536000; SameSite=Strict`;
      location.reload();
    };
    const before = header.querySelector("span#operator") || header.querySelector("form") || null;
    header.insertBefore(select, before);
  }

  const number = (value, digits) => new Intl.NumberFormat(lang, {maximumFractionDigits: digits ?? 2,
                                                                  minimumFractionDigits: digits ?? 0}).format(value);
  window.i18n = {
    lang, t, number,
    operator: (who) => t("{name} ({role})", {name: who.name, role: t(who.role)}),  // "sue (supervisor)"
    localDay: (d) => [d.getFullYear(), d.getMonth() + 1, d.getDate()].map((n) => String(n).padStart(2, "0"))
      .join("-"),  // YYYY-MM-DD in the browser's time zone (a date input's value)
    percent: (fraction) => new Intl.NumberFormat(lang, {style: "percent", maximumFractionDigits: 0}).format(fraction),
    money: (amount) => new Intl.NumberFormat(lang, {style: "currency", currency: "CNY"}).format(Number(amount)),
    time: (when) => new Intl.DateTimeFormat(lang, {hour: "2-digit", minute: "2-digit", second: "2-digit",
                                                   hour12: false}).format(new Date(when)),
    dateTime: (when) => new Intl.DateTimeFormat(lang, {dateStyle: "medium", timeStyle: "medium",
                                                       hour12: false}).format(new Date(when)),
  };
  document.documentElement.lang = lang;
  document.title = t(document.title);
  translate(document.body);
  languageSwitch();
})();
