// The body picker on a staff proposal page: as staff type part of a body's name, its pinyin initials or its
// region into the search box, the transfer list below is refilled with the best matches (GET /accounts/bodies/find).
// Without JavaScript the search box's own form reloads the page with the same matches, so nothing depends on this.
(function () {
  "use strict";
  var input = document.querySelector("input[data-picker-url]");
  if (!input) { return; }
  var select = document.getElementById(input.dataset.pickerTarget);
  var status = document.getElementById("body-picker-status");
  var timer = null;
  var latest = 0;

  function say(count) {
    if (!status) { return; }
    status.textContent = count === 0 ? status.dataset.none
      : (count === 1 ? status.dataset.one : status.dataset.many.replace("{n}", count));
  }

  function fill(bodies) {
    var chosen = select.value;
    while (select.options.length > 1) { select.remove(1); }  // the first option asks to choose
    bodies.forEach(function (body) {
      var option = new Option(body.name, body.id);
      option.title = body.region;
      select.add(option);
    });
    select.value = bodies.some(function (b) { return String(b.id) === chosen; }) ? chosen : "";
    say(bodies.length);
  }

  function search() {
    var query = input.value.trim();
    if (!query) { return; }
    var asked = ++latest;
    var url = input.dataset.pickerUrl + (input.dataset.pickerUrl.indexOf("?") < 0 ? "?" : "&") +
      "q=" + encodeURIComponent(query);
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data && asked === latest) { fill(data.bodies); } })
      .catch(function () { /* the search button still works */ });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(search, 150);
  });
  input.form.addEventListener("submit", function (event) {  // with JavaScript the list is filled in place
    event.preventDefault();
    clearTimeout(timer);
    search();
    select.focus();
  });
}());
