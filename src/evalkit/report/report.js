// Sortable tables and drill-down anchors. Vanilla JS, no libraries, no network.
(function () {
  "use strict";
  function cellValue(row, idx) {
    var cell = row.cells[idx];
    if (!cell) return "";
    var v = cell.getAttribute("data-sort");
    return v === null ? cell.textContent.trim() : v;
  }
  function sortTable(table, idx, th) {
    var body = table.tBodies[0];
    if (!body) return;
    var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    Array.prototype.forEach.call(table.querySelectorAll("th"), function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, idx), y = cellValue(b, idx);
      var nx = parseFloat(x), ny = parseFloat(y);
      var bothNum = x !== "" && y !== "" && !isNaN(nx) && !isNaN(ny);
      // Unknown values ("" data-sort) sort last in either direction.
      if (x === "" && y !== "") return 1;
      if (y === "" && x !== "") return -1;
      if (bothNum) return dir * (nx - ny);
      return dir * x.localeCompare(y);
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
      var heads = table.tHead ? table.tHead.rows[table.tHead.rows.length - 1].cells : [];
      Array.prototype.forEach.call(heads, function (th, idx) {
        var btn = th.querySelector("button.sort");
        if (btn) btn.addEventListener("click", function () { sortTable(table, idx, th); });
      });
    });
    function openTarget() {
      var id = decodeURIComponent(window.location.hash.slice(1));
      var el = id && document.getElementById(id);
      if (el && el.tagName === "DETAILS") { el.open = true; el.scrollIntoView(); }
    }
    window.addEventListener("hashchange", openTarget);
    openTarget();
    document.documentElement.setAttribute("data-ready", "1");
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
