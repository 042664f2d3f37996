// The supervisor's wallboard: pushed every few seconds by the console (server-sent events).
(() => {
  const $ = (id) => document.getElementById(id);
  const {t} = window.i18n;
  const pct = (x) => (x === null || x === undefined ? "–" : i18n.percent(x));
  const secs = (x) => (x === null || x === undefined ? "–" : t("{n} s", {n: i18n.number(x, 1)}));

  fetch("/api/me").then((r) => r.json()).then((me) => { $("operator").textContent = i18n.operator(me); });

  function rows(table, data) {
    const body = $(table).tBodies[0];
    body.textContent = "";
    for (const cells of data) {
      const row = body.insertRow();
      for (const [value, cls] of cells) {
        const cell = row.insertCell();
        cell.textContent = value;
        if (cls) cell.className = cls;
      }
    }
  }

  function show(board) {
    const t = board.today;
    $("t-live").textContent = board.live.length;
    $("t-waiting").textContent = board.live.filter((c) => c.state === "waiting").length;
    const queued = board.live.filter((c) => c.state === "queued");
    $("t-queued").textContent = queued.length;
    $("t-longest").textContent = queued.length ? secs(Math.max(...queued.map((c) => c.waiting_s || 0))) : "–";
    $("t-calls").textContent = t.calls;
    $("t-containment").textContent = pct(t.containment);
    $("t-answer").textContent = `${secs(t.time_to_answer_s.median)} / ${secs(t.time_to_answer_s.p90)}`;
    $("t-overflows").textContent = t.overflows_to_central;
    $("t-abandoned").textContent = t.abandoned_waiting;
    $("t-reply").textContent = t.reply_ms.p50 === null ? "–" : `${t.reply_ms.p50} / ${t.reply_ms.p90} ms`;
    $("target").textContent = i18n.t("(target: {target} answered)", {target: pct(t.answer_target)});
    const pools = new Set([...Object.keys(t.pools), ...Object.keys(board.agents)]);
    rows("pools", [...pools].sort().map((pool) => {
      const p = t.pools[pool] || {offered: 0, answered: 0, answer_rate: null}, a = board.agents[pool] || {};
      const s = t.survey_by_pool[pool];
      return [[pool], [p.offered], [p.answered], [pct(p.answer_rate), p.below_target ? "below" : ""],
              [a.available ?? "–"], [a.busy ?? "–"], [a.away ?? "–"],
              [s ? `${i18n.number(s.average, 1)} (${s.surveys})` : "–"]];
    }));
    const reasons = $("reasons");
    reasons.textContent = "";
    for (const [reason, n] of Object.entries(t.transfers_by_reason)) {
      const li = document.createElement("li");
      li.textContent = `${reason === "null" ? i18n.t("unknown") : reason.replace(/_/g, " ")}: ${n}`;
      reasons.appendChild(li);
    }
    if (!reasons.children.length) reasons.textContent = i18n.t("none today");
    rows("live", board.live.map((c) => [[i18n.t(c.channel)], [c.language], [c.region], [c.step || "–"],
      [i18n.t(c.state.replace("_", " ")), c.state === "waiting" ? "below" : ""], [secs(c.duration_s)], [secs(c.waiting_s)]]));
    $("updated").textContent = i18n.t("Updated {time}.", {time: i18n.time(Date.now())});
  }

  const events = new EventSource("/api/wallboard/stream");
  events.onmessage = (e) => show(JSON.parse(e.data));
  events.onerror = () => { $("updated").textContent = i18n.t("Connection lost; retrying…"); };
})();
