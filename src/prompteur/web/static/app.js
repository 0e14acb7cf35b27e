// prompteur's pages work without this script; it only adds conveniences.
// - "/" focuses the page's search box (as in many tools), Escape leaves it.
// - A form marked data-busy disables its buttons and says it is working while the server
//   runs a model (promotion, playground), so nobody submits it twice.
// - A form marked data-confirm asks before a forced promotion.
// - The review page ([data-review]) is keyboard-first: 1-9 choose a label (and save it),
//   j/n next item, k/p previous, c comment, e correct, s skip, Escape leaves a text box.
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
  var review = document.querySelector("[data-review]");
  if (review) {
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      var typing = target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" ||
        target.tagName === "SELECT" || target.isContentEditable);
      if (typing) {
        if (event.key === "Escape") { target.blur(); }
        return;
      }
      if (event.ctrlKey || event.metaKey || event.altKey) { return; }
      var key = event.key;
      var click = function (selector) {
        var element = review.querySelector(selector);
        if (element) { event.preventDefault(); element.click(); }
      };
      if (key === "j" || key === "n") {
        click("a[data-nav=next]");
      } else if (key === "k" || key === "p") {
        click("a[data-nav=previous]");
      } else if (key === "s") {
        click("button[data-skip]");
      } else if (key === "c") {
        var comment = review.querySelector("#comment");
        if (comment) { event.preventDefault(); comment.focus(); }
      } else if (key === "e") {
        var details = review.querySelector("#correct");
        var correction = review.querySelector("#correction");
        if (details && correction) {
          event.preventDefault();
          details.open = true;
          if (!correction.value) {
            var output = review.querySelector("#output");
            correction.value = output ? output.textContent : "";
          }
          correction.focus();
        }
      } else if (/^[1-9]$/.test(key)) {
        var numeric = review.querySelector("input[data-numeric]");
        if (numeric) {
          numeric.focus();  // the digit lands in the box; Enter saves
        } else {
          click("button[data-choice='" + key + "']");
        }
      }
    });
  }
})();
