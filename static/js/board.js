// The deliverables board (templates/deliverables/_board.html). Each card's "Move to…"
// form works on its own (htmx posts it and swaps the board; without JavaScript it is
// a plain form). This adds: dragging a card to a column presses that move's button;
// arrow keys between the menu's moves, Escape to close it; a move that needs a reason
// (blocked) opens a reason box first (the card's own when the server drew it on a
// refused move, else a copy of the board's template), and is sent with the reason;
// focus comes back to the moved card.
(function () {
  "use strict";
  let dragged = null;
  let focusAfterSwap = null;

  function moveButton(card, status) {
    return card.querySelector('.board-move-actions button[value="' + status + '"]');
  }

  // The reason box of a card that has none yet (the server draws one only on a card
  // whose move it refused): a copy of the board's template, its ids the card's, with
  // the move's own button to send it.
  function reasonBox(card, button) {
    const template = document.getElementById("board-reason-template");
    const actions = card.querySelector(".board-move-actions");
    if (!template || !actions) return null;
    const box = template.content.firstElementChild.cloneNode(true);
    const id = "reason-" + card.id.replace("card-", "");
    box.querySelector("label").htmlFor = id;
    box.querySelector("textarea").id = id;
    const send = button.cloneNode(true);
    send.removeAttribute("data-asks-reason");
    send.className = "btn btn-sm btn-primary mt-1";
    send.addEventListener("click", function () { focusAfterSwap = card.id; });
    box.appendChild(send);
    actions.after(box);
    return box;
  }

  function askReason(card, button) {
    const box = card.querySelector(".board-reason") || reasonBox(card, button);
    const menu = card.querySelector(".board-move-menu");
    if (!box || !menu) return false;
    const text = box.querySelector("textarea");
    if (text.value.trim()) return false;
    menu.open = true;
    box.classList.add("board-extra-open");
    text.focus();
    return true;
  }

  function move(card, status) {
    const button = moveButton(card, status);
    if (!button) return;
    if (button.hasAttribute("data-asks-reason") && askReason(card, button)) return;
    focusAfterSwap = card.id;
    button.click();
  }

  function allows(card, status) {
    return (card.dataset.moves || "").split(" ").indexOf(status) !== -1;
  }

  function setUp(root) {
    const board = root.getElementById ? root.getElementById("board") : null;
    if (!board || board.dataset.ready) return;
    board.dataset.ready = "1";
    board.classList.add("board-js");

    const announce = board.querySelector(".board-announce");
    let over = null;  // the column a card is dragged over, to say why a drop there does nothing

    board.querySelectorAll(".board-card[draggable=true]").forEach(function (card) {
      card.addEventListener("dragstart", function (event) {
        dragged = card;
        over = null;
        if (announce) announce.textContent = "";  // the last move's message is not this one's
        card.classList.add("board-dragging");
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", card.id);
      });
      card.addEventListener("dragend", function () {
        const refused = over && over.dataset.status !== card.dataset.status && !allows(card, over.dataset.status);
        if (refused && announce) {
          const note = document.createElement("p");
          note.className = "alert alert-warning py-2 mb-2";
          note.textContent = board.dataset.noMove;
          announce.replaceChildren(note);
        }
        over = null;
        card.classList.remove("board-dragging");
        board.querySelectorAll(".board-drop-ok").forEach(function (c) { c.classList.remove("board-drop-ok"); });
        dragged = null;
      });
    });

    board.querySelectorAll(".board-column").forEach(function (column) {
      column.addEventListener("dragover", function (event) {
        if (dragged) over = column;  // kept through the dragleave a refused drop ends with
        if (dragged && allows(dragged, column.dataset.status)) {
          event.preventDefault();
          event.dataTransfer.dropEffect = "move";
          column.classList.add("board-drop-ok");
        }
      });
      column.addEventListener("dragleave", function (event) {
        if (!column.contains(event.relatedTarget)) column.classList.remove("board-drop-ok");
      });
      column.addEventListener("drop", function (event) {
        column.classList.remove("board-drop-ok");
        if (dragged && allows(dragged, column.dataset.status)) {
          event.preventDefault();
          move(dragged, column.dataset.status);
        }
      });
    });

    board.querySelectorAll(".board-move").forEach(function (form) {
      const card = form.closest(".board-card");
      const menu = form.querySelector(".board-move-menu");
      form.querySelectorAll(".board-move-actions button").forEach(function (button) {
        button.addEventListener("click", function (event) {
          if (button.hasAttribute("data-asks-reason") && askReason(card, button)) {
            event.preventDefault();
            return;
          }
          focusAfterSwap = card.id;
        });
      });
      form.querySelectorAll(".board-reason button, .board-override button").forEach(function (button) {
        button.addEventListener("click", function () { focusAfterSwap = card.id; });
      });
      menu.addEventListener("toggle", function () {
        if (menu.open) {
          const first = menu.querySelector(".board-move-actions button");
          if (first && !card.querySelector(".board-refusal, .is-invalid, .board-extra-open")) first.focus();
        }
      });
      menu.addEventListener("keydown", function (event) {
        const buttons = Array.prototype.slice.call(menu.querySelectorAll(".board-move-actions button"));
        const at = buttons.indexOf(document.activeElement);
        if (event.key === "Escape") {
          menu.open = false;
          menu.querySelector("summary").focus();
          event.preventDefault();
        } else if (at !== -1 && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
          const next = (at + (event.key === "ArrowDown" ? 1 : buttons.length - 1)) % buttons.length;
          buttons[next].focus();
          event.preventDefault();
        }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  } else {
    setUp(document);
  }
  document.addEventListener("htmx:afterSettle", function () {
    setUp(document);
    if (focusAfterSwap) {
      const card = document.getElementById(focusAfterSwap);
      focusAfterSwap = null;
      if (card) {
        const target = card.querySelector(".board-refusal textarea.is-invalid, .board-extra-open textarea, summary") || card.querySelector("a");
        target.focus();
      }
    }
  });
})();
