// Reports for a period: charts drawn by the server (SVG), tables, and the same tables as CSV.
(() => {
  const $ = (id) => document.getElementById(id);
  const day = (d) => d.toISOString().slice(0, 10);

  fetch("/api/me").then((r) => r.json()).then((me) => { $("operator").textContent = `${me.name} (${me.role})`; });

  function fill(table, rows, keys) {
    const body = $(table).tBodies[0];
    body.textContent = "";
    for (const row of rows) {
      const tr = body.insertRow();
      for (const key of keys) {
        const v = row[key];
        // as the CSV has them: minutes with one decimal, rates as fractions shown in per cent
        tr.insertCell().textContent = key === "answer_rate" ? (v === null ? "–" : `${Math.round(v * 100)}%`)
          : key === "agent_minutes" ? v.toFixed(1) : v;
      }
    }
  }

  async function show() {
    const query = `first=${$("first").value}&last=${$("last").value}`;
    const response = await fetch(`/api/reports?${query}`);
    if (!response.ok) { $("summary").textContent = await response.text(); return; }
    const r = await response.json();
    $("summary").textContent = `${r.calls} calls from ${r.first} to ${r.last}.`;
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
  }

  const today = new Date();
  $("last").value = day(today);
  $("first").value = day(new Date(today.getTime() - 6 * 86400000));
  $("period").onsubmit = (e) => { e.preventDefault(); show(); };
  show();
})();
