/* Staff pages: a warning before the idle sign-out, and notes kept across it. */
(function () {
  "use strict";

  function idleWarning() {
    var warning = document.querySelector(".idle-warning");
    if (!warning) { return; }
    var minutes = +warning.getAttribute("data-idle-minutes");
    var warnAfter = Math.max(minutes - 2, 1) * 60 * 1000;
    window.setTimeout(function () {
      warning.textContent = "You will be signed out in about 2 minutes unless you open or save a page. " +
        "Notes you are typing are kept in this tab and come back after you sign in again.";
      warning.hidden = false;
    }, warnAfter);
    window.setTimeout(function () { window.location.reload(); }, minutes * 60 * 1000 + 5000);
  }

  /* A note being typed survives a sign-out: kept in this tab only, cleared once sent. */
  function keptNotes() {
    document.querySelectorAll("textarea[data-keep]").forEach(function (box) {
      var key = "intake-note:" + window.location.pathname + ":" + box.name;
      if (!box.value && window.sessionStorage.getItem(key)) {
        box.value = window.sessionStorage.getItem(key);
      }
      box.addEventListener("input", function () { window.sessionStorage.setItem(key, box.value); });
      if (box.form) {
        box.form.addEventListener("submit", function () { window.sessionStorage.removeItem(key); });
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    idleWarning();
    keptNotes();
  });
})();
