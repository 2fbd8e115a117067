// The body map as a control: tapping a region ticks its checkbox in the pain_regions
// list, ticking a checkbox shades its region, and each region becomes a keyboard
// checkbox. The map is one Tab stop; the arrow keys (and Home, End) move between its
// regions, so a keyboard user does not tab through all of them to reach the list.
// Without this script the map is a picture and the list is the control.
(function () {
  "use strict";

  function enhance(svg) {
    var boxes = {};
    document.querySelectorAll('input[name="pain_regions"]').forEach(function (box) {
      boxes[box.value] = box;
    });
    var regions = Array.prototype.filter.call(
      svg.querySelectorAll(".region[data-region]"),
      function (region) { return boxes[region.getAttribute("data-region")]; }
    );
    if (!regions.length) {
      return;
    }

    var status = svg.parentNode.querySelector(".bodymap-status");
    if (!status) {
      status = document.createElement("p");
      status.className = "bodymap-status";
      status.setAttribute("aria-live", "polite");
      svg.parentNode.insertBefore(status, svg.nextSibling);
    }

    function labelOf(region) {
      var title = region.querySelector("title");
      return title ? title.textContent.trim() : region.getAttribute("data-region");
    }

    function show(region) {
      var checked = boxes[region.getAttribute("data-region")].checked;
      region.classList.toggle("selected", checked);
      region.setAttribute("aria-checked", checked ? "true" : "false");
    }

    function announce(region) {
      var checked = boxes[region.getAttribute("data-region")].checked;
      var template = svg.getAttribute(checked ? "data-selected" : "data-not-selected") ||
        (checked ? "{region} selected" : "{region} not selected");
      status.textContent = template.replace("{region}", labelOf(region));
    }

    function toggle(region) {
      var box = boxes[region.getAttribute("data-region")];
      if (box.disabled) {
        return;
      }
      box.checked = !box.checked;
      box.dispatchEvent(new Event("change", { bubbles: true }));
      announce(region);
    }

    function rove(target) {
      regions.forEach(function (region) {
        region.setAttribute("tabindex", region === target ? "0" : "-1");
      });
    }

    var moves = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 };

    regions.forEach(function (region, index) {
      region.setAttribute("role", "checkbox");
      region.setAttribute("aria-label", labelOf(region));
      show(region);
      region.addEventListener("click", function () {
        rove(region);
        toggle(region);
      });
      region.addEventListener("keydown", function (event) {
        var next = null;
        if (event.key === " " || event.key === "Enter") {
          event.preventDefault();
          toggle(region);
        } else if (event.key in moves) {
          next = (index + moves[event.key] + regions.length) % regions.length;
        } else if (event.key === "Home" || event.key === "End") {
          next = event.key === "Home" ? 0 : regions.length - 1;
        }
        if (next !== null) {
          event.preventDefault();
          rove(regions[next]);
          regions[next].focus();
        }
      });
      boxes[region.getAttribute("data-region")].addEventListener("change", function () {
        show(region);
      });
    });

    rove(regions.filter(function (region) {
      return boxes[region.getAttribute("data-region")].checked;
    })[0] || regions[0]);
    svg.removeAttribute("aria-hidden");
    svg.setAttribute("role", "group");
    svg.setAttribute("aria-label", svg.getAttribute("data-label") || "Body map");
    svg.classList.add("is-enhanced");
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("svg.bodymap").forEach(enhance);
  });
}());
