/* Shared-mechanism heatmap: click a cell to list the shared entities with both sides' evidence. */
(function () {
  "use strict";
  var M = window.NM_MATRIX;
  var root = document.body ? document.body.dataset.root || "" : "";

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function names(obj) {
    var span = el("span");
    span.appendChild(el("span", { "class": "l-en", lang: "en" }, obj.en));
    if (obj.zh) { span.appendChild(el("span", { "class": "l-zh", lang: "zh" }, obj.zh)); }
    return span;
  }

  function link(obj) {
    var a = el("a", { href: root + obj.url });
    a.appendChild(names(obj));
    return a;
  }

  function evidenceList(records) {
    var ul = el("ul", { "class": "evidence-list" });
    (records || []).forEach(function (f) {
      var li = el("li");
      var badge = el("span", { "class": "badge dir-" + f.direction });
      badge.appendChild(names({ en: f.directionLabel[0], zh: f.directionLabel[1] }));
      li.appendChild(badge);
      li.appendChild(document.createTextNode(" " + f.measure[0] + (f.partner ? " (↔ " + f.partner + ")" : "") + " "));
      li.appendChild(el("q", { lang: "zh", "class": "quote" }, f.quote));
      li.appendChild(el("span", { lang: "en", "class": "statement" }, " " + f.statement + " "));
      if (f.study) { li.appendChild(el("cite", {}, f.study + " ")); }
      li.appendChild(el("a", { href: root + f.url, "class": "fid" }, f.id));
      ul.appendChild(li);
    });
    return ul;
  }

  function show(a, b) {
    var panel = document.getElementById("pair-detail");
    var pair = M.pairs[a + " " + b];
    var ca = M.conditions[a], cb = M.conditions[b];
    panel.innerHTML = "";
    var h = el("h3");
    h.appendChild(link(ca));
    h.appendChild(document.createTextNode(" × "));
    h.appendChild(link(cb));
    h.appendChild(el("span", { "class": "score" }, " Jaccard " + pair.score.toFixed(2)));
    panel.appendChild(h);
    panel.appendChild(el("p", { "class": "muted", id: "pair-count" },
      pair.shared.length + " shared entities · " + pair.shared.length + " 个共享实体"));
    var table = el("table", { "class": "grid shared-entities" });
    var head = el("tr");
    head.appendChild(el("th", {}, "Entity · 实体"));
    head.appendChild(el("th", {}, ca.en));
    if (a !== b) { head.appendChild(el("th", {}, cb.en)); }
    table.appendChild(head);
    pair.shared.forEach(function (e) {
      var row = el("tr", { "class": "shared-entity", "data-entity": e });
      var cell = el("td");
      cell.appendChild(link(M.entities[e]));
      row.appendChild(cell);
      var left = el("td");
      left.appendChild(evidenceList(M.evidence[a + " " + e]));
      row.appendChild(left);
      if (a !== b) {
        var right = el("td");
        right.appendChild(evidenceList(M.evidence[b + " " + e]));
        row.appendChild(right);
      }
      table.appendChild(row);
    });
    panel.appendChild(table);
    panel.hidden = false;
    panel.scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#heatmap td.cell").forEach(function (td) {
      var open = function () {
        document.querySelectorAll("#heatmap td.selected").forEach(function (s) { s.classList.remove("selected"); });
        td.classList.add("selected");
        show(td.dataset.a, td.dataset.b);
      };
      td.addEventListener("click", open);
      td.addEventListener("keydown", function (event) { if (event.key === "Enter") { open(); } });
    });
    var only = document.getElementById("shared-only");
    only.addEventListener("change", function () {
      document.querySelectorAll("#entity-matrix tr[data-conditions]").forEach(function (tr) {
        tr.hidden = only.checked && Number(tr.dataset.conditions) < 2;
      });
    });
  });
})();
