// Under the extension date picker: how many working days the chosen date adds to the current deadline, or that
// it falls on a weekend day or public holiday. The server renders the working days (China's calendar, with
// make-up working days) into data-working-days; without JavaScript the help text above the form says the limit.
(function () {
  "use strict";
  var input = document.querySelector("input[data-working-days]");
  var out = document.getElementById("extension-count");
  if (!input || !out) { return; }
  var days = input.dataset.workingDays ? input.dataset.workingDays.split(",") : [];

  function show() {
    var chosen = input.value;  // yyyy-mm-dd, or "" while incomplete
    if (!chosen || (input.min && chosen < input.min) || (input.max && chosen > input.max)) {
      out.textContent = "";  // the date field names this element as its description: nothing stale to read
      out.hidden = true;
      return;
    }
    var position = days.indexOf(chosen);
    if (position < 0) {
      out.textContent = out.dataset.restDay;
    } else {
      out.textContent = position === 0 ? out.dataset.one : out.dataset.many.replace("{n}", position + 1);
    }
    out.hidden = false;
  }
  input.addEventListener("input", show);
  input.addEventListener("change", show);
  show();
}());
