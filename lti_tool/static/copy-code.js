// Adds a "copy" button after every value marked data-copy; without it (or without the
// clipboard API) the values stay selectable text.
(function () {
  "use strict";
  if (!navigator.clipboard) {
    return;
  }
  var status = document.getElementById("copie-statut");
  document.querySelectorAll("[data-copy]").forEach(function (code) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy-button";
    button.textContent = code.getAttribute("data-copy-label");
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(code.textContent.trim()).then(function () {
        if (status) {
          status.textContent = code.getAttribute("data-copied-label");
        }
      });
    });
    code.insertAdjacentElement("afterend", button);
  });
})();
