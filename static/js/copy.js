// Copy a value to the clipboard: a button with data-copy-from="<input id>" copies
// that input's value (and says so); inputs marked data-select-on-focus select
// their whole value when focused, for copying by hand.
(function () {
  "use strict";
  document.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
  document.querySelectorAll("[data-copy-from]").forEach(function (button) {
    const input = document.getElementById(button.dataset.copyFrom);
    const label = button.textContent;
    button.addEventListener("click", function () {
      input.select();
      const done = function () {
        button.textContent = button.dataset.copiedText || label;
        window.setTimeout(function () { button.textContent = label; }, 2000);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () {});
      } else if (document.execCommand("copy")) {
        done();
      }
    });
  });
})();
