// The admin's periodic task form (templates/admin/djcelery/change_periodictask_form.html):
// under the crontab picker, say in words when the chosen schedule runs.
(function () {
  "use strict";
  const script = document.currentScript;
  const data = document.getElementById("readable-crontabs");
  const select = document.getElementById("id_crontab");
  const help = document.querySelector(".field-crontab .help");
  const translation = document.querySelector(".field-crontab_translation");
  if (translation) {
    translation.hidden = true;
  }
  if (!script || !data || !select || !help) {
    return;
  }
  const readable = JSON.parse(data.textContent);
  const original = script.dataset.help;
  function update() {
    const description = readable[select.value];
    help.textContent = original;
    if (description) {
      help.append(document.createElement("br"), script.dataset.label + " " + description);
    }
  }
  select.addEventListener("change", update);
  update();
})();
