// While a citizen types a proposal, say whether the title or text holds personal details (a phone or ID number,
// an address…) that belong in the private section. The server decides (core/privacy.py, one rule for every page):
// the text is POSTed, with the form's CSRF token, so that it stays out of URLs and logs. Without JavaScript the
// same notice comes back after submitting, with the offer to move the details.
(function () {
  "use strict";
  // After a submit that found personal details, the form comes back with its review block first: focus it, so
  // that a screen reader reads it and a phone shows it (autofocus does the same where it applies to a div).
  var review = document.getElementById("privacy-review");
  if (review) { review.focus(); }
  var form = document.getElementById("suggestion-form");
  var box = document.getElementById("privacy-while-typing");
  if (!form || !box || !window.fetch || !window.URLSearchParams) { return; }
  var title = form.querySelector("[name=title]");
  var body = form.querySelector("[name=body]");
  var token = form.querySelector("[name=csrf_token]");
  var timer = null;
  var asked = "";

  function ask() {
    var text = title.value + "\n" + body.value;
    if (text === asked) { return; }
    asked = text;
    var data = new URLSearchParams();
    data.append("csrf_token", token ? token.value : "");
    data.append("title", title.value);
    data.append("body", body.value);
    fetch(form.dataset.privacyUrl, { method: "POST", body: data, credentials: "same-origin",
                                     headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) { if (text === asked) { box.innerHTML = html; } })
      .catch(function () { /* the notice is optional: the server checks again on submit */ });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(ask, 700);
  }
  title.addEventListener("input", later);
  body.addEventListener("input", later);
}());
