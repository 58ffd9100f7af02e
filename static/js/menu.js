// The site menu on phones: collapsed behind one button. Without JavaScript the menu simply stays open.
// Sections folded on phones (details.collapse-narrow) start open on wide screens.
(function () {
  if (window.matchMedia("(min-width: 48rem)").matches) {
    document.querySelectorAll("details.collapse-narrow").forEach(function (d) { d.open = true; });
  }
})();
(function () {
  var toggle = document.querySelector(".menu-toggle");
  var menu = document.getElementById("site-menu");
  if (!toggle || !menu) return;
  document.documentElement.classList.add("menu-js");
  toggle.hidden = false;
  toggle.addEventListener("click", function () {
    var open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    menu.classList.toggle("open", open);
    if (open) { var first = menu.querySelector("input, a, button, summary"); if (first) first.focus(); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && menu.classList.contains("open")) {
      toggle.setAttribute("aria-expanded", "false");
      menu.classList.remove("open");
      toggle.focus();
    }
  });
})();
