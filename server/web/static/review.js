// Review board: order the final question list by dragging (native HTML5 drag and drop).
// The up/down buttons do the same without script; this posts the whole new order.
(function () {
  "use strict";
  var list = document.getElementById("q-final-list");
  if (!list) return;
  var dragged = null;
  list.addEventListener("dragstart", function (e) {
    var li = e.target.closest("li[data-id]");
    if (!li || li.getAttribute("draggable") !== "true") return;
    dragged = li;
    li.classList.add("dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", li.dataset.id);
  });
  list.addEventListener("dragover", function (e) {
    if (!dragged) return;
    e.preventDefault();
    var over = e.target.closest("li[data-id]");
    if (!over || over === dragged) return;
    var box = over.getBoundingClientRect();
    var after = e.clientY > box.top + box.height / 2;
    list.insertBefore(dragged, after ? over.nextSibling : over);
  });
  list.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
  });
  list.addEventListener("drop", function (e) {
    if (!dragged) return;
    e.preventDefault();
    dragged.classList.remove("dragging");
    dragged = null;
    var order = Array.prototype.map.call(list.querySelectorAll("li[data-id]"), function (li) {
      return li.dataset.id;
    }).join(",");
    var body = new URLSearchParams({ action: "order", order: order, csrf: list.dataset.csrf });
    fetch("/m/" + list.dataset.meeting + "/review", {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "hx-request": "true" },
    }).then(function () {
      window.location.reload();
    });
  });
})();
