// The bulk import's job page: while the import runs, ask the server how far it
// got (a small JSON) every second and move the bar; reload when it is over, so
// the server renders the result. Without JavaScript the page refreshes itself
// (<meta refresh> in <noscript>).
(function () {
  "use strict";
  var box = document.querySelector("[data-status-url]");
  if (!box) return;
  var url = box.getAttribute("data-status-url");
  var bar = box.querySelector("progress");
  var heading = box.querySelector("h2");
  var percent = box.querySelector("[data-field=percent]");
  var processed = box.querySelector("[data-field=processed]");

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (job) {
        if (job.finished) {
          window.location.reload();
          return;
        }
        bar.value = job.percent;
        bar.textContent = job.percent + " %";
        percent.textContent = job.percent;
        processed.textContent = job.processed;
        heading.textContent = job.status_label;
        window.setTimeout(poll, 1000);
      })
      .catch(function () {
        window.setTimeout(poll, 3000); // a dropped connection: keep trying, more slowly
      });
  }
  window.setTimeout(poll, 1000);
})();
