// Reports for a period: charts drawn by the server (SVG), tables, and the same tables as CSV.
(() => {
  const $ = (id) => document.getElementById(id);
  const {t} = window.i18n;
  const day = i18n.localDay;

  fetch("/api/me").then((r) => r.json()).then((me) => { $("operator").textContent = i18n.operator(me); });

  function fill(table, rows, keys) {
    const body = $(table).tBodies[0];
    body.textContent = "";
    for (const row of rows) {
      const tr = body.insertRow();
      for (const key of keys) {
        const v = row[key];
        // as the CSV has them: minutes with one decimal, rates as fractions shown in per cent
        tr.insertCell().textContent = key === "answer_rate" ? (v === null ? "–" : i18n.percent(v))
          : key === "agent_minutes" ? i18n.number(v, 1) : key === "amount" || key === "price" ? i18n.money(v)
          : key === "average" ? i18n.number(v, 2) : typeof v === "number" ? i18n.number(v, 0) : v;
      }
    }
  }

  async function show() {
    const query = `first=${$("first").value}&last=${$("last").value}`;
    const response = await fetch(`/api/reports?${query}`);
    if (!response.ok) { $("summary").textContent = await response.text(); return; }
    const r = await response.json();
    $("summary").textContent = t("{calls} calls from {first} to {last}.", {calls: i18n.number(r.calls, 0), first: r.first, last: r.last});
    $("chart-regions").src = `/api/reports/calls_by_region.svg?${query}`;
    $("chart-answer").src = `/api/reports/answer_rate_by_hour.svg?${query}`;
    fill("billing", r.billing, ["region", "transactions", "price", "amount"]);
    fill("regions", r.by_region_service,
         ["region", "service", "calls", "self_service_transactions", "transfers", "agent_minutes"]);
    fill("answer", r.answer_rate_by_hour, ["pool", "hour", "offered", "answered", "answer_rate"]);
    $("csv-billing").href = `/api/reports/billing.csv?${query}`;
    $("csv-regions").href = `/api/reports/by_region_service.csv?${query}`;
    $("csv-answer").href = `/api/reports/answer_rate_by_hour.csv?${query}`;
    fill("surveys", r.surveys, ["pool", "region", "hour", "surveys", "average"]);
    $("csv-surveys").href = `/api/reports/surveys.csv?${query}`;
    fill("queue", r.queue, ["region", "queued", "answered", "call_backs", "abandoned", "average_wait_s", "longest_wait_s"]);
    $("csv-queue").href = `/api/reports/queue.csv?${query}`;
  }

  const today = new Date();
  $("last").value = day(today);
  $("first").value = day(new Date(today.getTime() - 6 * 86400000));
  $("period").onsubmit = (e) => { e.preventDefault(); show(); };
  show();
})();
