// Progressive enhancement of the integration detail page: polls the latest sync run through the JSON API
// and updates the progress element; reloads the page once the run finishes so the new rows show.
(function () {
  "use strict";
  var box = document.getElementById("sync-progress");
  if (!box) { return; }
  var url = box.getAttribute("data-runs-url");
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-progress-text]");
  var wasRunning = box.getAttribute("data-running") === "true";
  var delay = 1000;

  function show(run) {
    if (!run) { text.textContent = "Starting the sync…"; return; }
    var total = run.days_total || 0;
    var done = run.days_done || 0;
    if (total > 0) { bar.max = total; bar.value = done; }
    text.textContent = run.status === "running"
      ? "Syncing: " + done + " of " + total + " days done"
      : "Sync " + run.status + ": " + done + " of " + total + " days";
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) {
        if (!body) { return; }
        var run = body.runs && body.runs.length ? body.runs[0] : null;
        show(run);
        var running = body.running || (run && run.status === "running");
        if (running) { wasRunning = true; setTimeout(poll, delay); return; }
        if (wasRunning) { window.location.reload(); }
      })
      .catch(function () { setTimeout(poll, delay * 3); });
  }

  box.hidden = false;
  poll();
})();
