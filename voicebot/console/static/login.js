// Keeps the page the operator asked for, and says so when a sign-in failed.
(() => {
  const params = new URLSearchParams(location.search);
  const form = document.getElementById("login-form");
  form.action = "/login" + (params.get("next") ? "?next=" + encodeURIComponent(params.get("next")) : "");
  document.getElementById("failed").hidden = !params.get("failed");
})();
