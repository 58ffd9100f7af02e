// Select a passage of an article's text: a button offers to comment on that passage (the link carries it).
(function () {
  "use strict";
  var action = document.getElementById("passage-action");
  if (!action) return;
  var link = action.querySelector("a");
  document.addEventListener("selectionchange", function () {
    var selection = window.getSelection();
    var text = selection ? selection.toString().trim() : "";
    var node = selection && selection.anchorNode;
    var article = node && (node.nodeType === 1 ? node : node.parentElement).closest(".draft-article");
    if (!text || !article || text.length > 500) { action.hidden = true; return; }
    link.href = article.getAttribute("data-comment-url") + "&quote=" + encodeURIComponent(text);
    action.hidden = false;
  });
}());
