// Flashcards by keyboard: space reveals the answer, 1-4 rate, u undoes the last rating.
// Keys typed into a text field are left alone (Enter there submits the answer to check).
(function () {
  "use strict";
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    const reveal = document.getElementById("reveal");
    if (event.key === " " && reveal && !reveal.open) {
      event.preventDefault();
      reveal.open = true;
      return;
    }
    if (["1", "2", "3", "4"].includes(event.key)) {
      const button = document.querySelector('.rate-form button[data-key="' + event.key + '"]');
      if (button && button.offsetParent !== null) {
        event.preventDefault();
        button.click();
      }
      return;
    }
    if (event.key === "u") {
      const undo = document.getElementById("undo-form");
      if (undo) {
        event.preventDefault();
        undo.submit();
      }
    }
  });
})();
