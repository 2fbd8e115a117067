/* An export being prepared: its progress updated in place; the page comes back whole
   once it is ready or has failed. Without this script, "Check again" does the same. */
(function () {
  "use strict";
  var box = document.getElementById("export-progress");
  if (!box || !window.fetch) { return; }
  var words = box.querySelector(".progress-words");
  var bar = box.querySelector("progress");

  function show(job) {
    if (job.state !== "queued" && job.state !== "running") {
      window.location.reload();
      return;
    }
    if (job.state === "running" && job.total) {
      words.textContent = "Prepared " + job.done + " of " + job.total + " rows.";
      bar.max = job.total;
      bar.value = job.done;
    }
    window.setTimeout(check, 1500);
  }

  function check() {
    fetch(box.getAttribute("data-progress-url"), {credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (job) { if (job) { show(job); } });
  }

  window.setTimeout(check, 1500);
})();
