// The agent desk: set yourself available in a pool; a call the bot hands to that pool pops up
// with what the bot knew (masked customer, reason, the conversation so far); accept or decline.
(() => {
  const $ = (id) => document.getElementById(id);
  const {t} = window.i18n;
  let ws = null, me = {pool: null, available: false}, current = null, waitingTimer = null;

  fetch("/api/me").then((r) => r.json()).then((who) => { $("operator").textContent = i18n.operator(who); });

  const send = (message) => ws && ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(message));
  const words = (code) => (code || "").replace(/[._]/g, " ");

  function showState(state) {
    me = state;
    const select = $("pool");
    if (select.options.length !== state.pools.length) {
      select.textContent = "";
      for (const pool of state.pools) select.add(new Option(pool === "central" ? t("central (head office)") : pool, pool));
    }
    if (state.pool) select.value = state.pool;
    select.disabled = state.available;
    $("available").disabled = state.available || !state.pools.length;
    $("away").disabled = !state.available;
    $("status").textContent = state.call ? t("On a call.") : state.available
      ? t("Available in pool {pool}: calls handed to it pop up here.", {pool: state.pool})
      : t("Away: no calls are offered to you.");
    const body = $("stats").tBodies[0];
    body.textContent = "";
    for (const [pool, s] of Object.entries(state.stats)) {
      const row = body.insertRow();
      for (const v of [pool, s.offered, s.answered, s.answer_rate === null ? "–" : `${s.answer_rate}%`,
                       s.median_answer_s === null ? "–" : t("{n} s", {n: i18n.number(s.median_answer_s, 1)})]) row.insertCell().textContent = v;
    }
    const seats = Object.entries(state.seats || {});
    $("seats").textContent = seats.length ? t("SIP seats: {seats}", {seats: seats.map(([a, s]) => `${a} ${s}`).join(", ")})
      : t("This console answers no agent pool (started with --no-desk).");
  }

  function fact(list, name, value) {
    if (value === undefined || value === null || value === "") return;
    const dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = name;
    dd.textContent = value;
    list.append(dt, dd);
  }

  function showOffer(offer) {
    current = offer;
    $("idle").hidden = true;
    $("offer").hidden = false;
    $("offer").className = "ringing";
    $("reason").textContent = t("Incoming: {reason}", {reason: offer.reason_text || words(offer.reason) || t("caller put through")});
    const trust = {verified: t("Context signed by the bot: checked."),
                   unsigned: t("Context not signed (no shared secret configured): treat it with care."),
                   forged: offer.warning || t("The context failed its check.")};
    $("trust").textContent = trust[offer.trust] || "";
    $("trust").className = `trust ${offer.trust}`;
    const facts = $("facts");
    facts.textContent = "";
    fact(facts, t("Customer"), offer.customer && offer.customer !== "unidentified" ? offer.customer : t("not identified"));
    fact(facts, t("Verified"), offer.verified ? (offer.customer_kind ? t("yes, by PIN ({kind})", {kind: offer.customer_kind})
      : t("yes, by PIN")) : t("no"));
    fact(facts, t("Caller"), offer.caller || offer.from);
    fact(facts, t("Done this call"), offer.services_text ? offer.services_text.join(", ") || t("nothing yet")
      : words(offer.service));
    fact(facts, t("Language"), offer.language);
    fact(facts, t("Region"), offer.region);
    fact(facts, t("Pool"), offer.pool);
    fact(facts, t("Waiting"), "…");
    const waitingCell = facts.lastElementChild;
    const since = offer.handover_at ? Date.parse(offer.handover_at) : Date.now() - 1000 * (offer.ringing_s || 0);
    clearInterval(waitingTimer);
    const tick = () => { waitingCell.textContent = t("{n} s", {n: Math.max(0, Math.round((Date.now() - since) / 1000))}); };
    tick();
    waitingTimer = setInterval(tick, 1000);
    const list = $("transcript");
    list.textContent = "";
    for (const line of offer.transcript || []) {
      const li = document.createElement("li");
      li.className = line.who;
      li.textContent = line.text;
      list.appendChild(li);
    }
    list.scrollTop = list.scrollHeight;  // the newest lines: what led to the hand-over
    $("accept").hidden = $("decline").hidden = false;
    $("accept").disabled = $("decline").disabled = false;
    $("hangup").hidden = true;
  }

  function clearOffer(text) {
    clearInterval(waitingTimer);
    current = null;
    $("offer").hidden = true;
    $("idle").hidden = false;
    $("idle").textContent = text;
  }

  function onMessage(message) {
    switch (message.type) {
      case "state": showState(message); break;
      case "offer": showOffer(message); break;
      case "withdrawn":
        if (current && current.call === message.call) clearOffer(t("The call was withdrawn: {why}.", {why: message.why}));
        break;
      case "connected":
        if (!current || current.call !== message.call) break;
        clearInterval(waitingTimer);
        $("offer").className = "connected";
        $("reason").textContent = t("Connected: {reason}", {reason: current.reason_text || words(current.reason) || t("caller")});
        $("accept").hidden = $("decline").hidden = true;
        $("hangup").hidden = false;
        break;
      case "ended":
        if (current && current.call === message.call) clearOffer(t("The call has ended."));
        break;
    }
  }

  function connect() {
    ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/desk`);
    ws.onmessage = (e) => onMessage(JSON.parse(e.data));
    ws.onclose = () => {
      $("status").textContent = t("Disconnected from the console; reconnecting…");
      setTimeout(connect, 2000);
    };
  }

  $("available").onclick = () => send({type: "status", pool: $("pool").value, available: true});
  $("away").onclick = () => send({type: "status", pool: $("pool").value, available: false});
  $("accept").onclick = () => {
    $("accept").disabled = $("decline").disabled = true;
    $("reason").textContent = t("Connecting…");
    send({type: "accept", call: current.call});
  };
  $("decline").onclick = () => send({type: "decline", call: current.call});
  $("hangup").onclick = () => send({type: "hangup", call: current.call});
  connect();
})();
