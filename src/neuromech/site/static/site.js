/* NeuroMech KG site: language toggle and search (plain JavaScript, no dependencies). */
(function () {
  "use strict";

  function setLang(lang) {
    document.body.classList.remove("show-both", "show-en", "show-zh");
    document.body.classList.add("show-" + lang);
    document.querySelectorAll(".lang button").forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.dataset.lang === lang));
    });
    try { window.localStorage.setItem("nm-lang", lang); } catch (e) { /* storage may be off for file:// */ }
  }

  function norm(text) {
    return String(text || "").toLowerCase().replace(/\s+/g, " ").trim();
  }

  function search(query) {
    var q = norm(query);
    if (!q) { return []; }
    var hits = [];
    (window.NM_SEARCH || []).forEach(function (entry) {
      var names = [entry.en, entry.zh, entry.curie].concat(entry.syn || []).map(norm);
      var rank = 9;
      names.forEach(function (name) {
        if (!name) { return; }
        if (name === q) { rank = Math.min(rank, 0); }
        else if (name.indexOf(q) === 0) { rank = Math.min(rank, 1); }
        else if (name.indexOf(q) > 0) { rank = Math.min(rank, 2); }
      });
      if (rank < 9) { hits.push({ rank: rank, entry: entry }); }
    });
    hits.sort(function (a, b) {
      return a.rank - b.rank || (a.entry.en || a.entry.zh).length - (b.entry.en || b.entry.zh).length;
    });
    return hits.slice(0, 20).map(function (h) { return h.entry; });
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function wireSearch(input) {
    var list = input.parentNode.querySelector(".search-results");
    var root = document.body.dataset.root || "";
    input.addEventListener("input", function () {
      var hits = search(input.value);
      list.innerHTML = "";
      hits.forEach(function (entry) {
        var li = el("li");
        var a = el("a", { href: root + entry.url, "data-curie": entry.curie });
        a.appendChild(el("span", { "class": "l-en", lang: "en" }, entry.en));
        if (entry.zh) { a.appendChild(el("span", { "class": "l-zh", lang: "zh" }, entry.zh)); }
        li.appendChild(a);
        li.appendChild(el("span", { "class": "kind muted" }, " " + (entry.kindLabel || []).filter(Boolean).join(" · ")));
        list.appendChild(li);
      });
      if (!hits.length && input.value.trim()) {
        list.appendChild(el("li", { "class": "muted" }, "No match · 无匹配"));
      }
      list.hidden = !input.value.trim();
    });
    input.addEventListener("keydown", function (event) {
      var first = list.querySelector("a");
      if (event.key === "Enter" && first) { window.location.href = first.href; }
      if (event.key === "Escape") { input.value = ""; list.hidden = true; }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var saved = null;
    try { saved = window.localStorage.getItem("nm-lang"); } catch (e) { saved = null; }
    setLang(saved === "en" || saved === "zh" ? saved : "both");
    document.querySelectorAll(".lang button").forEach(function (b) {
      b.addEventListener("click", function () { setLang(b.dataset.lang); });
    });
    document.querySelectorAll(".search-input").forEach(wireSearch);
  });

  window.nmSearch = search;
})();
