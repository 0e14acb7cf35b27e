// prompteur's pages work without this script; it only adds conveniences.
// - "/" focuses the page's search box (as in many tools), Escape leaves it.
// - A form marked data-busy disables its buttons and says it is working while the server
//   runs a model (promotion, playground), so nobody submits it twice.
// - A form marked data-confirm asks before a forced promotion.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" ||
      target.tagName === "SELECT" || target.isContentEditable);
    if (event.key === "/" && !typing) {
      var box = document.querySelector("[data-search]");
      if (box) { event.preventDefault(); box.focus(); box.select(); }
    } else if (event.key === "Escape" && typing && target.hasAttribute("data-search")) {
      target.blur();
    }
  });
  document.querySelectorAll("form[data-busy]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var question = form.getAttribute("data-confirm");
      var force = form.querySelector("input[name=force]");
      if (question && force && force.checked && !window.confirm(question)) {
        event.preventDefault();
        return;
      }
      var status = form.querySelector("[role=status]");
      if (status) { status.textContent = form.getAttribute("data-busy"); }
      form.setAttribute("aria-busy", "true");
      // Disabled after the submit event has read the clicked button's name and value.
      window.setTimeout(function () {
        form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      }, 0);
    });
  });
})();
