// Refreshes the live panel (#live[data-live]) every data-refresh-ms by fetching its
// server-rendered fragment. Pages work without it; nothing here builds HTML itself.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.fetch) { return; }
  var every = parseInt(live.getAttribute("data-refresh-ms"), 10) || 5000;
  function refresh() {
    if (document.hidden) { return; }
    fetch(live.getAttribute("data-live"), { credentials: "same-origin", redirect: "manual" })
      .then(function (resp) {
        if (resp.type === "opaqueredirect" || resp.status === 401) { window.location.reload(); return null; }
        return resp.ok ? resp.text() : null;
      })
      .then(function (html) { if (html !== null) { live.innerHTML = html; } })
      .catch(function () { /* keep the last panel; the next tick tries again */ });
  }
  window.setInterval(refresh, every);
})();
