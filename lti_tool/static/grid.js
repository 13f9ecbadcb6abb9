// Keeps each competency's "n / m atteints" and the rule's decision up to date as levels are
// chosen. The server renders the same line from the same rule (after "Enregistrer le
// brouillon"), so without this script the grid still says it, one save later.
//
// The rule is the framework's: a criterion is met at a passing level (data-passing on the
// form) and a competency is acquired when the share of its criteria met reaches its
// threshold (data-threshold, computed on the server by referentiel.rules.threshold), the
// same comparison as referentiel.rules.attempt. The words come from the page, translated.
(function () {
  "use strict";
  var form = document.querySelector("form[data-passing]");
  if (!form) {
    return;
  }
  var passing = form.getAttribute("data-passing").split(" ");

  function update(competency) {
    var criteria = competency.querySelectorAll("[data-criterion]");
    var met = 0;
    criteria.forEach(function (criterion) {
      var chosen = criterion.querySelector("input[type=radio]:checked");
      if (chosen && passing.indexOf(chosen.value) !== -1) {
        met += 1;
      }
    });
    var threshold = parseFloat(competency.getAttribute("data-threshold"));
    var acquired = met / criteria.length >= threshold;
    var count = form.getAttribute("data-count")
      .replace("{met}", String(met))
      .replace("{total}", String(criteria.length));
    var rule = competency.querySelector("[data-rule]");
    var words = form.getAttribute(acquired ? "data-acquired" : "data-not-acquired");
    // Only a real change touches the live region, so screen readers hear each change once.
    var shown = competency.querySelector("[data-count]");
    if (shown.textContent !== count || rule.textContent !== words) {
      shown.textContent = count;
      rule.textContent = words;
      rule.className = acquired ? "acquired" : "not-acquired";
    }
  }

  form.addEventListener("change", function (event) {
    var target = event.target;
    if (target.type !== "radio") {
      return;
    }
    var competency = target.closest("[data-threshold]");
    if (competency) {
      update(competency);
    }
  });
})();
