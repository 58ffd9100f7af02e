// While a citizen types a proposal, show similar ones already made (the server renders the list).
// Waits for a pause in typing; never blocks submitting; without JavaScript the form works as before.
// Only the first 300 characters of the body are sent: percent-encoded Chinese must fit a request line.
(function () {
  "use strict";
  var form = document.getElementById("suggestion-form");
  var box = document.getElementById("similar-while-typing");
  if (!form || !box || !window.fetch) { return; }
  var results = box.querySelector(".similar-results");
  var title = form.querySelector("[name=title]");
  var body = form.querySelector("[name=body]");
  var timer = null;
  var asked = "";

  function ask() {
    var text = (title.value + "\n" + body.value).trim();
    if (text.length < 6 || text === asked) { return; }
    asked = text;
    var url = form.dataset.similarUrl + "&inside_form=1&title=" + encodeURIComponent(title.value) +
      "&body=" + encodeURIComponent(body.value.slice(0, 300));
    fetch(url, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        if (text !== asked) { return; }  // a newer request is on its way
        results.innerHTML = html;
        box.hidden = html.trim() === "";
        if (window.matchMedia("(min-width: 48rem)").matches) {  // beside the text: room for all of them
          results.querySelectorAll("details.collapse-narrow").forEach(function (d) { d.open = true; });
        }
      })
      .catch(function () { /* hints are optional */ });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(ask, 500);
  }
  title.addEventListener("input", later);
  body.addEventListener("input", later);
  ask();  // a form shown again (after an error, or going back) already holds text: its hints at once
}());
