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

// "/" jumps to the search box in the navigation, unless the person is typing in a
// field already (or holds a modifier: browsers' own shortcuts stay theirs).
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    const box = document.getElementById("site-search");
    if (!box) return;
    event.preventDefault();
    const menu = document.getElementById("main-nav");
    if (menu && !menu.classList.contains("show") && box.offsetParent === null && window.bootstrap) {
      window.bootstrap.Collapse.getOrCreateInstance(menu).show();  // the phone's folded menu
    }
    box.focus();
    box.select();
  });
})();
