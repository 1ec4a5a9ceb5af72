// Import progress: polls the run's progress while a worker is on it, then reloads the page.
(function () {
  "use strict";
  var box = document.querySelector("[data-import-progress]");
  if (!box || box.dataset.working !== "1") return;
  var bar = box.querySelector("progress");
  var phase = box.querySelector("[data-import-phase]");
  var rows = box.querySelector("[data-import-rows]");
  var status = document.querySelector("[data-import-status]");
  function poll() {
    fetch(box.dataset.url, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        bar.value = data.percent;
        phase.textContent = data.phase;
        rows.textContent = data.rows_read;
        if (status) status.textContent = data.status_label;
        if (["queued", "running", "checking", "undoing"].indexOf(data.status) === -1) {
          window.location.reload();
        } else {
          window.setTimeout(poll, 1500);
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
