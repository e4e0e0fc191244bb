// Sort any table.sortable by clicking a column header; open every <details> before printing.
// The page reads fine without this script: tables keep their server-side order.
(function () {
  "use strict";
  function cellKey(row, index) {
    var cell = row.cells[index];
    if (!cell) return { missing: true };
    var raw = cell.getAttribute("data-value");
    if (raw === null) return { text: cell.textContent.trim().toLowerCase() };
    if (raw === "") return { missing: true };
    var number = Number(raw);
    return isNaN(number) ? { text: raw.toLowerCase() } : { number: number };
  }
  function compare(a, b) {
    if (a.missing || b.missing) return a.missing === b.missing ? 0 : (a.missing ? 1 : -1);
    if (a.number !== undefined && b.number !== undefined) return a.number - b.number;
    var x = a.text !== undefined ? a.text : String(a.number);
    var y = b.text !== undefined ? b.text : String(b.number);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  function sortBy(table, th) {
    var index = th.cellIndex;
    var descending = th.getAttribute("aria-sort") !== "descending";
    if (th.getAttribute("aria-sort") === null && th.getAttribute("data-first") === "ascending") descending = false;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) {
      var a = cellKey(r1, index), b = cellKey(r2, index);
      if (a.missing || b.missing) return compare(a, b);  // missing values stay last either way
      return descending ? compare(b, a) : compare(a, b);
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) { cell.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      var button = document.createElement("button");
      button.type = "button";
      while (th.firstChild) button.appendChild(th.firstChild);
      button.title = "sort by this column";
      th.appendChild(button);
      button.addEventListener("click", function () { sortBy(table, th); });
    });
  });
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) { d.open = true; });
  });
})();
