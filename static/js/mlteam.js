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

// The team matrix (roles/_team_matrix.html): a grid with one tab stop (roving
// tabindex); arrow keys, Home and End move between cells; Enter opens the cell's
// editor in a dialog (htmx fills it), Escape closes it; after a save the matrix
// is swapped in again and the focus goes back to the cell it came from.
(function () {
  "use strict";
  let lastKey = null;
  let editing = false;

  function grid() { return document.querySelector("#team-matrix table[role=grid]"); }
  function dialog() { return document.getElementById("cell-editor"); }
  function cellOf(key) {
    const table = grid();
    return table && key ? table.querySelector('[data-cell="' + CSS.escape(key) + '"]') : null;
  }

  function rove(target) {
    const table = grid();
    if (!table || !target) return;
    table.querySelectorAll("[data-cell]").forEach(function (cell) {
      cell.setAttribute("tabindex", cell === target ? "0" : "-1");
    });
  }

  function setUp() {
    const table = grid();
    if (!table) return;
    rove(cellOf(lastKey) || table.querySelector("[data-cell]"));
  }

  function move(cell, rows, columns, event) {
    const slot = cell.closest("td");
    const row = slot.parentElement;
    const allRows = Array.from(row.parentElement.children);
    const slots = Array.from(row.children).filter(function (c) { return c.tagName === "TD"; });
    let r = allRows.indexOf(row) + rows;
    let c = slots.indexOf(slot) + columns;
    if (event.key === "Home") c = 0;
    if (event.key === "End") c = slots.length - 1;
    if (r < 0 || r >= allRows.length) return;
    const targetSlots = Array.from(allRows[r].children).filter(function (x) { return x.tagName === "TD"; });
    if (c < 0 || c >= targetSlots.length) return;
    const target = targetSlots[c].querySelector("[data-cell]");
    if (!target) return;
    rove(target);
    lastKey = target.dataset.cell;
    target.focus();
  }

  const MOVES = {ArrowRight: [0, 1], ArrowLeft: [0, -1], ArrowDown: [1, 0], ArrowUp: [-1, 0], Home: [0, 0], End: [0, 0]};

  document.addEventListener("keydown", function (event) {
    const cell = event.target.closest && event.target.closest("#team-matrix [data-cell]");
    if (!cell || !(event.key in MOVES) || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    move(cell, MOVES[event.key][0], MOVES[event.key][1], event);
  });

  document.addEventListener("focusin", function (event) {
    const cell = event.target.closest && event.target.closest("#team-matrix [data-cell]");
    if (cell) { lastKey = cell.dataset.cell; rove(cell); }
  });

  document.addEventListener("click", function (event) {
    const opener = event.target.closest && event.target.closest("[data-cell], [data-cell-key]");
    if (opener) lastKey = opener.dataset.cell || opener.dataset.cellKey;
    const cancel = event.target.closest && event.target.closest("#cell-editor [data-cell-cancel]");
    if (cancel && dialog() && dialog().open) {
      event.preventDefault();
      dialog().close();
    }
  });

  function backToCell() {
    const cell = cellOf(lastKey);
    if (cell) { rove(cell); cell.focus(); }
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUp();
    const box = dialog();
    if (box) box.addEventListener("close", function () { editing = false; backToCell(); });
  });

  // Both once htmx has settled the new content: htmx makes a swapped-in form post
  // through it only then (a form used before would be sent as a plain page), and
  // puts the focus back on an element of the old content's id.
  document.addEventListener("htmx:afterSettle", function (event) {
    const target = event.detail.target;
    if (target.id === "cell-editor-body") {
      // The cell's editor: the dialog opens with the focus on its first field.
      const box = dialog();
      if (!box.open) box.showModal();
      editing = true;
      const field = target.querySelector("input:not([type=hidden])") || target.querySelector("button, a");
      if (field) { field.focus(); if (field.select) field.select(); }
      return;
    }
    // The matrix after a save: the dialog closes and the focus goes back to the
    // cell, now drawn anew.
    if (target.id !== "team-matrix") return;
    setUp();
    const box = dialog();
    const wasEditing = editing || (box && box.open);
    if (box && box.open) box.close();
    editing = false;
    if (wasEditing) {
      backToCell();
    } else if (!document.activeElement || document.activeElement === document.body) {
      // The control used is gone with the old content (an "Add" button, a row's
      // "Remove"): after an add, the search box, ready for the next person; else
      // the grid's tab stop.
      const from = event.detail.requestConfig && event.detail.requestConfig.elt;
      const adding = from && from.closest && from.closest("#add-person");
      const next = adding ? document.querySelector("#add-person input[type=search]")
        : document.querySelector("#team-matrix [data-cell][tabindex='0']");
      if (next) next.focus();
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
// A person filter drawn with its chosen person only (roles.forms.LazyPersonSelect):
// its whole list is fetched the first time the pointer or the keyboard focus enters
// its form, and the choice made meanwhile is kept. A failed fetch is tried again on
// the next entry.
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  document.querySelectorAll("select[data-options-url]").forEach(function (select) {
    const area = select.form || select.parentElement;
    let asked = false;
    const load = function () {
      if (asked) {
        return;
      }
      asked = true;
      const url = select.dataset.optionsUrl + "?" + new URLSearchParams({[select.name]: select.value});
      fetch(url, {credentials: "same-origin", headers: {"Accept": "text/html"}})
        .then(function (response) {
          if (!response.ok) {
            throw new Error(response.status);
          }
          return response.text();
        })
        .then(function (options) {
          const chosen = select.value;
          select.innerHTML = options;
          select.value = chosen;
          select.removeAttribute("data-options-url");
        })
        .catch(function () { asked = false; });
    };
    ["pointerenter", "focusin", "touchstart"].forEach(function (kind) {
      area.addEventListener(kind, load, {passive: true});
    });
  });
});
