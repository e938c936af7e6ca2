// MLTeam's own script. Warn before leaving a page with unsaved changes in a form
// marked data-warn-unsaved (for example the checklist, when another form on the
// page is submitted).
(function () {
  "use strict";
  const dirty = new Set();
  document.querySelectorAll("form[data-warn-unsaved]").forEach(function (form) {
    form.addEventListener("input", function () { dirty.add(form); });
    form.addEventListener("change", function () { dirty.add(form); });
    form.addEventListener("submit", function () { dirty.delete(form); });
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty.size > 0) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
