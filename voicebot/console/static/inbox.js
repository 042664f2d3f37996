// The trainer's inbox: unsure caller turns, each labelled with one click (or dismissed); then retrain.
(() => {
  const $ = (id) => document.getElementById(id);
  const {t} = window.i18n;
  const thenWords = {yes: t("said yes to the guess"), no: t("said no to the guess"),
                     chose: t("chose from the family"), keys: t("pressed a key instead"),
                     agent: t("asked for an agent"), rephrased: t("said something else"), silence: t("said nothing"),
                     hung_up: t("hung up")};
  let labels = [];

  fetch("/api/me").then((r) => r.json()).then((me) => { $("operator").textContent = i18n.operator(me); });

  async function post(url, body) {
    const response = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json"},
                                       body: JSON.stringify(body)});
    return [response.ok, await response.json()];
  }

  function button(text, className, onClick) {
    const b = document.createElement("button");
    b.textContent = text;
    if (className) b.className = className;
    b.onclick = onClick;
    return b;
  }

  function turnItem(turn) {
    const li = document.createElement("li");
    li.dataset.id = turn.id;
    const said = document.createElement("p");
    said.className = "said";
    said.textContent = `“${turn.text}”`;
    const meta = document.createElement("p");
    meta.className = "muted";
    meta.textContent = t("{kind} at {step}; then {then}; {at}", {kind: turn.kind.replace(/_/g, " "),
      step: turn.step || "?", then: thenWords[turn.then] || "-", at: i18n.dateTime(turn.at)});
    const actions = document.createElement("div");
    actions.className = "buttons";
    const result = document.createElement("p");
    result.className = "result";
    const act = async (action, intent) => {
      const [ok, data] = await post(`/api/inbox/${turn.id}`, {action, intent});
      result.textContent = ok ? (data.file ? t("{status} as {intent} ({file})", {status: data.status, intent: data.intent, file: data.file}) : data.status)
        : data.error;
      result.className = ok ? "result ok" : "result error";
      if (ok) { li.classList.add("done"); actions.querySelectorAll("button, select").forEach((e) => { e.disabled = true; }); }
    };
    for (const [intent, confidence] of turn.ranking)
      actions.append(button(`${intent} ${Math.round(confidence * 100)}%`, "guess", () => act("label", intent)));
    const select = document.createElement("select");
    select.setAttribute("aria-label", t("another intent"));
    for (const name of labels) select.add(new Option(name, name));
    actions.append(select, button(t("Label"), "", () => act("label", select.value)),
                   button(t("Out of scope"), "", () => act("out_of_scope")),
                   button(t("Dismiss"), "", () => act("dismiss")));
    li.append(said, meta, actions, result);
    return li;
  }

  async function load() {
    const response = await fetch(`/api/inbox?lang=${$("lang").value}`);
    const data = await response.json();
    labels = data.labels;
    const list = $("turns");
    list.textContent = "";
    for (const turn of data.turns) list.appendChild(turnItem(turn));
    const n = data.turns.length;
    $("status").textContent = n ? (i18n.lang === "en-US" ? `${n} turn${n === 1 ? "" : "s"} waiting.`
    : t("{n} turn(s) waiting.", {n})) : t("Nothing waiting.");
  }

  $("lang").onchange = load;
  $("train").onclick = async () => {
    $("train").disabled = true;
    $("train-output").textContent = t("Training a candidate and comparing it with the model in use…");
    const [, data] = await post("/api/inbox/train", {lang: $("lang").value});
    $("train-output").textContent = data.output || data.error;
    $("train").disabled = false;
  };
  load();
})();
