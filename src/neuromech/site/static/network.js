/* Interactive network (cytoscape.js, bundled in vendor/): zoom, filter by kind and review, click a node. */
(function () {
  "use strict";
  var COLORS = {
    "nm:Condition": "#c0392b", "nm:Mechanism": "#8e44ad", "nm:BrainRegion": "#2e86c1",
    "nm:Circuit": "#17a589", "nm:Neuromodulator": "#d68910", "nm:Receptor": "#b9770e",
    "nm:Gene": "#28b463", "nm:GeneticVariant": "#1d8348", "nm:Construct": "#7f8c8d"
  };

  document.addEventListener("DOMContentLoaded", function () {
    var data = window.NM_NETWORK;
    var root = document.body.dataset.root || "";
    // Nodes start on a golden-angle spiral (in data order), so that the force-directed layout never
    // meets two nodes at one point, where it would push them apart in a random direction: the same
    // data always draws the same picture.
    var GOLDEN_ANGLE = Math.PI * (3 - Math.sqrt(5));
    var elements = data.nodes.map(function (n, i) {
      var radius = 12 * Math.sqrt(i + 1);
      return { group: "nodes", position: { x: radius * Math.cos(i * GOLDEN_ANGLE), y: radius * Math.sin(i * GOLDEN_ANGLE) },
        data: { id: n.id, label: n.en || n.zh, en: n.en, zh: n.zh, kind: n.group, url: n.url, reviews: n.reviews } };
    }).concat(data.edges.map(function (e, i) {
      return { group: "edges", data: { id: "e" + i, source: e.source, target: e.target, kind: e.kind, weight: e.weight, reviews: e.reviews } };
    }));
    var cy = window.cytoscape({
      container: document.getElementById("network"),
      elements: elements,
      style: [
        { selector: "node", style: {
          "background-color": function (n) { return COLORS[n.data("kind")] || "#95a5a6"; },
          "label": "data(label)", "font-size": 9, "min-zoomed-font-size": 7, "color": "#222", "text-valign": "bottom",
          "width": function (n) { return 10 + 3 * Math.sqrt(n.degree()); },
          "height": function (n) { return 10 + 3 * Math.sqrt(n.degree()); } } },
        { selector: "node[kind = 'nm:Condition']", style: { "shape": "round-rectangle", "font-size": 12, "font-weight": "bold" } },
        { selector: "node[kind = 'nm:Mechanism']", style: { "shape": "diamond", "label": "" } },
        { selector: "edge", style: { "width": function (e) { return Math.min(1 + e.data("weight"), 6); }, "line-color": "#ccd", "curve-style": "haystack", "opacity": 0.7 } },
        { selector: "edge[kind != 'implicates']", style: { "line-style": "dashed", "line-color": "#c8b6d8" } },
        { selector: "node:selected", style: { "border-width": 3, "border-color": "#000" } },
        { selector: ".faded", style: { "display": "none" } }
      ],
      layout: { name: "cose", animate: false, randomize: false, nodeRepulsion: function () { return 9000; }, idealEdgeLength: function () { return 60; }, numIter: 600 }
    });
    window.nmCy = cy;

    var status = document.getElementById("network-status");
    function applyFilters() {
      var kinds = {};
      document.querySelectorAll("#kind-filter input").forEach(function (box) { kinds[box.value] = box.checked; });
      var review = document.getElementById("review-filter").value;
      cy.batch(function () {
        cy.nodes().forEach(function (n) {
          var visible = kinds[n.data("kind")] !== false && (!review || n.data("reviews").indexOf(review) >= 0);
          n.toggleClass("faded", !visible);
        });
        cy.edges().forEach(function (e) {
          var visible = (!review || e.data("reviews").indexOf(review) >= 0) &&
            !e.source().hasClass("faded") && !e.target().hasClass("faded");
          e.toggleClass("faded", !visible);
        });
      });
      status.textContent = cy.nodes().not(".faded").length + " nodes · " + cy.edges().not(".faded").length + " edges";
    }
    document.querySelectorAll("#kind-filter input").forEach(function (box) { box.addEventListener("change", applyFilters); });
    document.getElementById("review-filter").addEventListener("change", applyFilters);
    document.getElementById("fit").addEventListener("click", function () { cy.fit(cy.elements(":visible"), 20); });

    var detail = document.getElementById("node-detail");
    cy.on("tap", "node", function (event) {
      var n = event.target;
      detail.innerHTML = "";
      var h = document.createElement("h3");
      h.textContent = n.data("en");
      detail.appendChild(h);
      if (n.data("zh")) {
        var zh = document.createElement("p");
        zh.lang = "zh";
        zh.textContent = n.data("zh");
        detail.appendChild(zh);
      }
      var meta = document.createElement("p");
      meta.className = "muted small";
      meta.textContent = n.data("kind") + " · " + n.data("id") + " · " + n.degree() + " links";
      detail.appendChild(meta);
      if (n.data("url")) {
        var a = document.createElement("a");
        a.href = root + n.data("url");
        a.id = "node-page";
        a.textContent = "Open page · 打开页面 →";
        detail.appendChild(a);
      }
      var list = document.createElement("ul");
      n.neighborhood("node").sort(function (x, y) { return x.data("label") < y.data("label") ? -1 : 1; }).forEach(function (m) {
        var li = document.createElement("li");
        li.textContent = m.data("label") + (m.data("zh") && m.data("zh") !== m.data("label") ? " · " + m.data("zh") : "");
        list.appendChild(li);
      });
      detail.appendChild(list);
    });
    applyFilters();
    cy.fit(undefined, 20);
  });
})();
