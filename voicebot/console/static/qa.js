// Quality review: find calls, play one beside its transcript with the paused spans marked,
// score it against the checklist; supervisors also read the audit log of playbacks.
(() => {
  const $ = (id) => document.getElementById(id);
  const {t} = window.i18n;
  let me = null;
  let current = null;

  function cell(tr, text) { tr.insertCell().textContent = text === null || text === undefined ? "–" : text; }

  async function find() {
    const params = new URLSearchParams({ day: $("day").value });
    for (const key of ["region", "service", "outcome", "pool", "survey"]) {
      if ($(key).value) params.set(key, $(key).value.trim());
    }
    const response = await fetch(`/api/qa/calls?${params}`);
    if (!response.ok) { $("found").textContent = await response.text(); return; }
    const data = await response.json();
    $("found").textContent = t("{n} call(s) on {day}.", {n: data.calls.length, day: data.day});
    const body = $("calls").tBodies[0];
    body.textContent = "";
    for (const call of data.calls) {
      const tr = body.insertRow();
      tr.dataset.callId = call.call_id;
      tr.className = "pick";
      cell(tr, i18n.time(call.started_at));
      cell(tr, call.call_id);
      cell(tr, call.language);
      cell(tr, call.region);
      cell(tr, call.services.join(", ") || "–");
      cell(tr, t(call.outcome));
      cell(tr, call.pools.join(", ") || "–");
      cell(tr, call.survey_score);
      cell(tr, call.recorded ? t("{n} s", {n: i18n.number(call.duration_s, 1)}) : t("not recorded"));
      tr.onclick = () => open(call.call_id);
    }
  }

  async function open(callId) {
    const response = await fetch(`/api/qa/calls/${encodeURIComponent(callId)}`);
    if (!response.ok) { $("found").textContent = await response.text(); return; }
    current = await response.json();
    $("detail").hidden = false;
    $("call-title").textContent = t("Call {id}", {id: callId});
    $("player").removeAttribute("src");
    $("play").disabled = !current.recording;
    const rec = current.recording;
    const timeline = $("timeline");
    timeline.textContent = "";
    if (rec) {
      for (const [start, end] of rec.paused_spans) {
        const span = document.createElement("div");
        span.className = "paused-span";
        span.style.left = `${(100 * start) / rec.duration_s}%`;
        span.style.width = `${Math.max(0.5, (100 * (end - start)) / rec.duration_s)}%`;
        span.title = `paused for card data ${start.toFixed(1)}-${end.toFixed(1)} s`;
        timeline.appendChild(span);
      }
      $("paused").textContent = rec.paused_spans.length
        ? t("Paused for card data: {spans}.", {spans: rec.paused_spans.map(([a, b]) =>
          t("{n} s", {n: `${i18n.number(a, 1)}–${i18n.number(b, 1)}`})).join(", ")})
        : t("No pause: no card data was collected.");
    } else {
      $("paused").textContent = t("This call was not recorded.");
    }
    const list = $("transcript");
    list.textContent = "";
    for (const line of current.transcript) {
      const li = document.createElement("li");
      li.className = line.who;
      li.textContent = `${t("{n} s", {n: i18n.number(line.t, 1)})}  ${line.text}`;
      li.onclick = () => { if ($("player").src) { $("player").currentTime = line.t; } };
      list.appendChild(li);
    }
    const checks = $("checks");
    checks.textContent = "";
    const lang = i18n.lang;
    for (const [key, labels] of Object.entries(current.checklist)) {
      const label = document.createElement("label");
      label.className = "check";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.name = key;
      label.append(box, ` ${labels[lang]}`);
      checks.appendChild(label);
    }
    showReviews(current.reviews);
  }

  function showReviews(reviews) {
    const ul = $("reviews");
    ul.textContent = "";
    for (const r of reviews) {
      const li = document.createElement("li");
      li.textContent = `${i18n.dateTime(r.at)} ${r.operator}: ${r.score}%${r.comment ? ` (${r.comment})` : ""}`;
      ul.appendChild(li);
    }
  }

  async function play() {
    const response = await fetch(`/api/qa/calls/${encodeURIComponent(current.call_id)}/play`, { method: "POST" });
    if (!response.ok) { $("paused").textContent = await response.text(); return; }
    const { audio } = await response.json();
    $("player").src = audio;
    await $("player").play();
    if (me && me.audit) loadAudit();
  }

  async function review(event) {
    event.preventDefault();
    const checks = {};
    for (const box of $("checks").querySelectorAll("input")) checks[box.name] = box.checked;
    const response = await fetch(`/api/qa/calls/${encodeURIComponent(current.call_id)}/review`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ checks, comment: $("comment").value }),
    });
    const data = await response.json();
    $("saved").textContent = response.ok ? t("Saved: {score}%", {score: data.score}) : data.error;
    if (response.ok) open(current.call_id);
  }

  async function loadAudit() {
    const response = await fetch("/api/qa/audit");
    if (!response.ok) return;
    const body = $("audit").tBodies[0];
    body.textContent = "";
    for (const e of (await response.json()).entries) {
      const tr = body.insertRow();
      cell(tr, i18n.dateTime(e.at));
      for (const key of ["operator", "role", "action"]) cell(tr, key === "operator" ? e[key] : t(e[key]));
      cell(tr, e.call_id);
      cell(tr, e.source);
    }
  }

  fetch("/api/me").then((r) => r.json()).then((who) => {
    me = who;
    $("operator").textContent = i18n.operator(who);
    $("to-wallboard").hidden = !who.supervisor;
    $("audit-panel").hidden = !who.audit;
    if (who.audit) loadAudit();
  });
  $("day").value = i18n.localDay(new Date());
  $("search").onsubmit = (e) => { e.preventDefault(); find(); };
  $("play").onclick = play;
  $("review").onsubmit = review;
  $("audit-refresh").onclick = loadAudit;
  find();
})();
