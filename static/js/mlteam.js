// MLTeam's own script. Warn before leaving a page with unsaved changes in a form
// marked data-warn-unsaved (for example the checklist, when another form on the
// page is submitted).
(function () {
  "use strict";
  const dirty = new Set();
  // Fields that save themselves as they change (htmx) leave nothing unsaved.
  const savesItself = function (event) {
    return window.htmx && event.target.closest && event.target.closest("[hx-post]");
  };
  document.querySelectorAll("form[data-warn-unsaved]").forEach(function (form) {
    form.addEventListener("input", function (event) { if (!savesItself(event)) dirty.add(form); });
    form.addEventListener("change", function (event) { if (!savesItself(event)) dirty.add(form); });
    form.addEventListener("submit", function () { dirty.delete(form); });
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty.size > 0) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();

// Where htmx runs: show what needs it (".js-only"), hide the plain-form fallbacks
// (".no-js-only"), and hold a form marked data-waits-for-saves until the saves in
// flight (checklist ticks) have come back, so it goes with the versions they moved to.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  if (!window.htmx) {  // htmx, deferred too, has run by now
    return;
  }
  document.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });
  document.querySelectorAll(".no-js-only").forEach(function (el) { el.hidden = true; });
  const saving = function () { return document.querySelector(".htmx-request") !== null; };
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!form.matches("form[data-waits-for-saves]") || !saving()) {
      return;
    }
    event.preventDefault();
    const submitter = event.submitter;
    const retry = function () {
      // After the swap: a queued save may start right after this one ends.
      window.setTimeout(function () {
        if (saving()) {
          return;
        }
        document.removeEventListener("htmx:afterRequest", retry);
        form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
      }, 0);
    };
    document.addEventListener("htmx:afterRequest", retry);
  }, true);
});
