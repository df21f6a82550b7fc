// The report's only script: node selection in the pyramid, sortable tables, the region select box.
// Everything is already in the page; this only shows, hides and reorders it.
(function () {
  "use strict";

  function all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  // Pyramid: a node shows its panel and filters the leaf table to the leaves below it.
  function selectNode(code) {
    var panel = document.querySelector('.node-detail[data-detail="' + code + '"]');
    if (!panel) { return; }
    all(".node-detail").forEach(function (p) { p.hidden = p !== panel; });
    all(".pyramid .node").forEach(function (b) { b.classList.toggle("selected", b.dataset.node === code); });
    var shown = 0;
    all("#leaf-table tbody tr").forEach(function (tr) {
      var hit = (" " + tr.dataset.path + " ").indexOf(" " + code + " ") >= 0;
      tr.hidden = !hit;
      if (hit && tr.classList.contains("leaf")) { shown += 1; }
    });
    document.getElementById("leaf-count").textContent = shown + " (" + code + ")";
  }

  document.addEventListener("click", function (ev) {
    var el = ev.target.closest("[data-node]");
    if (!el) { return; }
    ev.preventDefault();
    selectNode(el.dataset.node);
    if (!el.classList.contains("node")) {
      document.getElementById("node-details").scrollIntoView({ block: "start" });
    }
  });

  // Sortable tables: numbers sort on data-v (raw values), empty cells last.
  all("table.sortable").forEach(function (table) {
    all("th[data-sort]", table).forEach(function (th, idx) {
      th.addEventListener("click", function () {
        var numeric = th.dataset.sort === "num";
        var desc = th.getAttribute("aria-sort") !== "descending";
        all("th[data-sort]", table).forEach(function (o) { o.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", desc ? "descending" : "ascending");
        var body = table.tBodies[0];
        var rows = all("tr", body);
        rows.sort(function (a, b) {
          var x = a.cells[idx].dataset.v, y = b.cells[idx].dataset.v;
          if (x === "" || y === "") { return (x === "") - (y === ""); }
          var c = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y, "it");
          return desc ? -c : c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });

  // Region: the select box shows that region's production structures and highlights it in the chart and table.
  var select = document.getElementById("region-select");
  function showRegion(code) {
    var n = 0;
    all("#structure-table tbody tr").forEach(function (tr) {
      tr.hidden = tr.dataset.region !== code;
      if (!tr.hidden) { n += 1; }
    });
    all("#region-table tbody tr, #regional-chart .region-row").forEach(function (el) {
      el.classList.toggle("highlight", el.dataset.region === code);
    });
    document.getElementById("structure-count").textContent = n + " strutture / structures";
  }
  if (select) {
    select.addEventListener("change", function () { showRegion(select.value); });
    all("#regional-chart .region-row, #region-table tbody tr").forEach(function (el) {
      el.addEventListener("click", function () { select.value = el.dataset.region; showRegion(el.dataset.region); });
    });
    showRegion(select.value);
  }

  selectNode("VPI");
}());
