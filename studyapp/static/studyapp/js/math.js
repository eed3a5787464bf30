// Typeset the math that studyapp/markdown.py left as escaped TeX (KaTeX, our own copy).
(function () {
  "use strict";
  function typeset(root) {
    if (typeof katex === "undefined") { return; }
    root.querySelectorAll(".math-inline, .math-display").forEach(function (el) {
      if (el.dataset.typeset) { return; }
      var tex = el.textContent;
      try {
        katex.render(tex, el, {
          displayMode: el.classList.contains("math-display"),
          throwOnError: false,
          output: "htmlAndMathml"
        });
        el.dataset.typeset = "1";
        el.setAttribute("data-tex", tex);
      } catch (err) {
        el.title = String(err);
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { typeset(document); });
  window.studyMath = { typeset: typeset };
})();
