/* Progressive enhancement only: every page works without this file. */
(function () {
  "use strict";

  /* An answer on this page, or one saved on an earlier page (data-answers). */
  function answerOf(form, name) {
    var inputs = form.querySelectorAll('[name="' + name + '"]');
    var saved = JSON.parse(form.getAttribute("data-answers") || "{}");
    if (!inputs.length && saved[name]) { return saved[name]; }
    var values = [];
    inputs.forEach(function (input) {
      if ((input.type === "radio" || input.type === "checkbox") ? input.checked : input.value) {
        values.push(input.value);
      }
    });
    return values;
  }

  /* Conditions as the definition writes them: "x = v", "x != v", "v in x", "any of a_1..a_9 >= k". */
  function holds(form, rule) {
    var m;
    if ((m = rule.match(/^(\w+) = (\w+)$/))) { return answerOf(form, m[1]).indexOf(m[2]) !== -1; }
    if ((m = rule.match(/^(\w+) != (\w+)$/))) {
      var values = answerOf(form, m[1]);
      return values.length > 0 && values.indexOf(m[2]) === -1;
    }
    if ((m = rule.match(/^(\w+) in (\w+)$/))) { return answerOf(form, m[2]).indexOf(m[1]) !== -1; }
    if ((m = rule.match(/^any of (\w+)_(\d+)\.\.\w+_(\d+) >= (\d+)$/))) {
      for (var n = +m[2]; n <= +m[3]; n++) {
        var v = answerOf(form, m[1] + "_" + n);
        if (v.length && +v[0] >= +m[4]) { return true; }
      }
      return false;
    }
    return true;
  }

  function followUps(form) {
    var questions = form.querySelectorAll("[data-follow-up]");
    if (!questions.length) { return; }
    function update() {
      questions.forEach(function (question) {
        question.hidden = !holds(form, question.getAttribute("data-follow-up"));
      });
    }
    form.addEventListener("change", update);
    update();
  }

  function copyButtons() {
    document.querySelectorAll(".copy-button").forEach(function (button) {
      var field = document.getElementById(button.getAttribute("data-copy"));
      var status = button.parentNode.querySelector(".copy-status");
      if (!field || !navigator.clipboard) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(field.value).then(function () {
          if (status) { status.textContent = button.getAttribute("data-done") || "Link copied"; }
        });
      });
    });
  }

  function unitToggles() {
    document.querySelectorAll("fieldset.units").forEach(function (fieldset) {
      var groups = fieldset.querySelectorAll(".unit-group");
      var or = fieldset.querySelector(".or");
      if (groups.length !== 2) { return; }
      var metricHasValue = Array.prototype.some.call(groups[1].querySelectorAll("input"), function (i) { return i.value; });
      var toggle = document.createElement("button");
      toggle.type = "button";
      toggle.className = "button secondary units-toggle";
      function show(metric) {
        groups[0].hidden = metric;
        groups[1].hidden = !metric;
        toggle.textContent = metric ? fieldset.getAttribute("data-imperial-label") || "Use feet, inches and pounds"
                                    : fieldset.getAttribute("data-metric-label") || "Use centimeters and kilograms";
        toggle.setAttribute("data-metric", metric ? "1" : "");
      }
      toggle.addEventListener("click", function () {
        var metric = !toggle.getAttribute("data-metric");
        (metric ? groups[0] : groups[1]).querySelectorAll("input").forEach(function (i) { i.value = ""; });
        show(metric);
      });
      if (or) { or.hidden = true; }
      fieldset.insertBefore(toggle, groups[0]);
      show(metricHasValue);
    });
  }

  function focusStart() {
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); return; }
    var title = document.getElementById("step-title");
    if (title && !window.location.hash) { title.focus({ preventScroll: true }); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form").forEach(followUps);
    copyButtons();
    unitToggles();
    focusStart();
  });
})();
