// The supervisor's wallboard: pushed every few seconds by the console (server-sent events).
(() => {
  const $ = (id) => document.getElementById(id);
  const pct = (x) => (x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`);
  const secs = (x) => (x === null || x === undefined ? "–" : `${x} s`);

  fetch("/api/me").then((r) => r.json()).then((me) => { $("operator").textContent = `${me.name} (${me.role})`; });

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
    $("t-calls").textContent = t.calls;
    $("t-containment").textContent = pct(t.containment);
    $("t-answer").textContent = `${secs(t.time_to_answer_s.median)} / ${secs(t.time_to_answer_s.p90)}`;
    $("t-overflows").textContent = t.overflows_to_central;
    $("t-abandoned").textContent = t.abandoned_waiting;
    $("t-reply").textContent = t.reply_ms.p50 === null ? "–" : `${t.reply_ms.p50} / ${t.reply_ms.p90} ms`;
    $("target").textContent = `(target: ${pct(t.answer_target)} answered)`;
    const pools = new Set([...Object.keys(t.pools), ...Object.keys(board.agents)]);
    rows("pools", [...pools].sort().map((pool) => {
      const p = t.pools[pool] || {offered: 0, answered: 0, answer_rate: null}, a = board.agents[pool] || {};
      const s = t.survey_by_pool[pool];
      return [[pool], [p.offered], [p.answered], [pct(p.answer_rate), p.below_target ? "below" : ""],
              [a.available ?? "–"], [a.busy ?? "–"], [a.away ?? "–"],
              [s ? `${s.average.toFixed(1)} (${s.surveys})` : "–"]];
    }));
    const reasons = $("reasons");
    reasons.textContent = "";
    for (const [reason, n] of Object.entries(t.transfers_by_reason)) {
      const li = document.createElement("li");
      li.textContent = `${(reason === "null" ? "unknown" : reason).replace(/_/g, " ")}: ${n}`;
      reasons.appendChild(li);
    }
    if (!reasons.children.length) reasons.textContent = "none today";
    rows("live", board.live.map((c) => [[c.channel], [c.language], [c.region], [c.step || "–"],
      [c.state.replace("_", " "), c.state === "waiting" ? "below" : ""], [secs(c.duration_s)], [secs(c.waiting_s)]]));
    $("updated").textContent = `Updated ${new Date().toLocaleTimeString()}.`;
  }

  const events = new EventSource("/api/wallboard/stream");
  events.onmessage = (e) => show(JSON.parse(e.data));
  events.onerror = () => { $("updated").textContent = "Connection lost; retrying…"; };
})();
