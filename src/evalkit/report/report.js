// The report's only script: sortable tables, table-of-contents navigation, and the case
// table (filter, search, pagination, drill-downs) rendered on demand from the embedded,
// gzip-compressed case data. Vanilla JS, no libraries, no network. Data is untrusted:
// every value goes into the page with textContent, never as HTML.
(function () {
  "use strict";
  var doc = document;
  var each = function (list, fn) { Array.prototype.forEach.call(list, fn); };

  function el(tag, cls, text) {
    var e = doc.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  // ---- sortable tables -------------------------------------------------------------
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
    each(table.querySelectorAll("th"), function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, idx), y = cellValue(b, idx);
      var nx = parseFloat(x), ny = parseFloat(y);
      // Unknown values ("" data-sort) sort last in either direction.
      if (x === "" && y !== "") return 1;
      if (y === "" && x !== "") return -1;
      if (x !== "" && y !== "" && !isNaN(nx) && !isNaN(ny)) return dir * (nx - ny);
      return dir * x.localeCompare(y);
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  function initSorting() {
    each(doc.querySelectorAll("table.sortable"), function (table) {
      var heads = table.tHead ? table.tHead.rows[table.tHead.rows.length - 1].cells : [];
      each(heads, function (th, idx) {
        var btn = th.querySelector("button.sort");
        if (btn) btn.addEventListener("click", function () { sortTable(table, idx, th); });
      });
    });
  }

  // ---- navigation: a link to anything inside a closed <details> opens it -------------
  function reveal(target) {
    for (var n = target; n; n = n.parentElement) if (n.tagName === "DETAILS") n.open = true;
    var own = target.querySelector(":scope > details.sec");  // a collapsed section's own body
    if (own) own.open = true;
    target.scrollIntoView();
  }

  // ---- the case table ---------------------------------------------------------------
  var KIND_LABEL = { regressed: "regressed (flipped)", improved: "improved (flipped)", failed: "failed" };
  var state = { data: null, col: "", kind: "", seg: "", q: "", page: 0, size: 50, open: {}, hits: [] };

  function anchorOf(i) {
    var r = state.data.rows[i];
    return "case-" + state.data.cols[r[0]][0] + "-" + String(r[1]).replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 80);
  }

  // The embedded case data: Base85 (the alphabet below, 4 bytes per 5 characters) of gzip
  // of the column-major wire document that _casewire.py writes; expand() rebuilds the rows.
  var B85 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%:()*+-;.=,?@^_`{|}~";
  function base85(text) {
    var map = {}, i, j, acc, v, take;
    for (i = 0; i < 85; i++) map[B85.charAt(i)] = i;
    text = text.replace(/\s+/g, "");
    var full = Math.floor(text.length / 5), rest = text.length % 5;
    var out = new Uint8Array(full * 4 + (rest ? rest - 1 : 0)), o = 0;
    for (i = 0; i < text.length; i += 5) {
      acc = 0;
      for (j = 0; j < 5; j++) {
        v = i + j < text.length ? map[text.charAt(i + j)] : 84;
        if (v === undefined) throw new Error("bad character in the case data");
        acc = acc * 85 + v;
      }
      // A short last group was padded with the highest digit: keep only its real bytes.
      take = i + 5 <= text.length ? 4 : rest - 1;
      for (j = 0; j < take; j++) out[o++] = (acc >>> (24 - 8 * j)) & 255;
    }
    return out;
  }

  function undict(enc) { return enc[1].map(function (k) { return enc[0][k]; }); }
  function pairs(keys, cols, i) {
    var out = [];
    for (var k = 0; k < keys.length; k++) if (cols[k][i] !== null) out.push([keys[k], cols[k][i]]);
    return out;
  }
  function expand(w) {
    var text = w.text.map(undict), pnote = undict(w.pnote);
    var pk = w.parsed[0], pc = w.parsed[1].map(undict), xk = w.rexp[0], xc = w.rexp[1].map(undict);
    var order = [], i;
    for (i = 0; i < w.col.length; i++) order.push(i);
    order.sort(function (a, b) { return (w.kind[a] - w.kind[b]) || (w.col[a] - w.col[b]) || (w.case[a] - w.case[b]); });
    var rows = [], det = [], facts = {};
    order.forEach(function (i) {
      var c = w.case[i];
      rows.push([w.col[i], w.cases[c], text[0][i], w.kinds[w.kind[i]], text[1][i], text[2][i], text[3][i], text[4][i]]);
      det.push({ raw: w.raw[i], parsed: pairs(pk, pc, i), expected: pairs(xk, xc, i).concat(pairs(w.cexp[0], w.cexp[1], c)),
                 prompt: w.prompt[i], pnote: pnote[i] });
    });
    w.cases.forEach(function (cid, c) { facts[cid] = pairs(w.facts[0], w.facts[1], c); });
    return { cols: w.cols, rows: rows, det: det, facts: facts };
  }

  function decode(text) {
    var bytes = base85(text);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text().then(function (t) { return expand(JSON.parse(t)); });
  }

  function kv(pairs) {
    var dl = el("dl", "kv");
    (pairs || []).forEach(function (p) { dl.appendChild(el("dt", null, p[0])); dl.appendChild(el("dd", null, p[1])); });
    return dl;
  }

  function drilldown(i) {
    var d = state.data, r = d.rows[i], det = d.det[i], col = d.cols[r[0]];
    var box = el("div", "drill");
    box.appendChild(el("h4", null, "Case facts (" + col[3] + ")"));
    box.appendChild(kv(d.facts[r[1]]));
    box.appendChild(el("h4", null, "Expected decision"));
    box.appendChild(det.expected.length ? kv(det.expected) : el("p", "muted", "not stored"));
    box.appendChild(el("h4", null, "Parsed decision"));
    box.appendChild(kv(det.parsed));
    box.appendChild(el("h4", null, "Failed checks"));
    if (r[4]) {
      var ul = el("ul");
      r[4].split(", ").forEach(function (x) { var li = el("li"); li.appendChild(el("code", null, x)); ul.appendChild(li); });
      box.appendChild(ul);
    } else box.appendChild(el("p", "muted", "none"));
    if (r[7] !== null && r[7] !== undefined) {
      box.appendChild(el("p", "muted", "Reference (" + col[2] + ") failed checks: " + (r[7] || "none")));
    }
    box.appendChild(el("h4", null, "Raw model output" + (det.raw.length > 1 ? " (" + det.raw.length + " samples)" : "")));
    if (det.raw.length) det.raw.forEach(function (o) { box.appendChild(el("pre", "raw-output", o)); });
    else box.appendChild(el("p", "muted", "raw output not stored (results.parquet absent)"));
    box.appendChild(el("h4", null, "Prompt (" + det.pnote + ")"));
    if (det.prompt !== null) {
      var pd = el("details"); pd.appendChild(el("summary", null, "show prompt")); pd.appendChild(el("pre", null, det.prompt));
      box.appendChild(pd);
    }
    box.appendChild(el("h4", null, "Template diff against the reference"));
    if (col[4] === null) box.appendChild(el("p", "muted", "no reference template to compare"));
    else if (!col[4]) box.appendChild(el("p", "muted", "template identical to the reference"));
    else box.appendChild(el("pre", "diff", col[4]));
    return box;
  }

  function matches(i) {
    var r = state.data.rows[i];
    if (state.col !== "" && String(r[0]) !== state.col) return false;
    if (state.kind && r[3] !== state.kind) return false;
    if (state.seg && r[2] !== state.seg) return false;
    if (state.q) {
      var hay = (r[1] + " " + r[2] + " " + r[4] + " " + r[5] + " " + r[6] + " " + state.data.cols[r[0]][1]).toLowerCase();
      if (hay.indexOf(state.q) < 0) return false;
    }
    return true;
  }

  function toggle(i, tr) {
    var id = anchorOf(i);
    var next = tr.nextSibling;
    if (next && next.id === id) { tr.parentNode.removeChild(next); delete state.open[i]; tr.setAttribute("aria-expanded", "false"); return null; }
    var row = el("tr", "detail");
    row.id = id;
    var td = el("td");
    td.colSpan = tr.cells.length;
    td.appendChild(drilldown(i));
    row.appendChild(td);
    tr.parentNode.insertBefore(row, tr.nextSibling);
    state.open[i] = true;
    tr.setAttribute("aria-expanded", "true");
    return row;
  }

  function render() {
    var d = state.data, body = doc.querySelector("#case-table tbody");
    var hits = state.hits;
    var pages = Math.max(1, Math.ceil(hits.length / state.size));
    state.page = Math.min(Math.max(0, state.page), pages - 1);
    var start = state.page * state.size, stop = Math.min(hits.length, start + state.size);
    while (body.firstChild) body.removeChild(body.firstChild);
    for (var k = start; k < stop; k++) {
      var i = hits[k], r = d.rows[i], col = d.cols[r[0]];
      var tr = el("tr", "case-row " + r[3]);
      tr.setAttribute("data-index", String(i));
      tr.setAttribute("aria-expanded", "false");
      tr.appendChild(el("td", null, col[1]));
      tr.appendChild(el("td", null, col[2] === null ? "—" : col[2]));
      var cell = el("td");
      var btn = el("button", "open-case", r[1]);
      btn.type = "button";
      btn.setAttribute("aria-label", "drill-down for " + r[1]);
      cell.appendChild(btn);
      tr.appendChild(cell);
      tr.appendChild(el("td", null, r[2]));
      tr.appendChild(el("td", "kind " + r[3], KIND_LABEL[r[3]] || r[3]));
      tr.appendChild(el("td", null, r[5] + " / " + r[6]));
      tr.appendChild(el("td", null, r[4] || "—"));
      body.appendChild(tr);
      if (state.open[i]) toggle(i, tr);
    }
    doc.getElementById("case-count").textContent = hits.length
      ? "Showing " + (start + 1) + "–" + stop + " of " + hits.length + " matching cases (" + d.rows.length + " listed)."
      : "No case matches (" + d.rows.length + " listed).";
    doc.getElementById("page-info").textContent = "page " + (state.page + 1) + " of " + pages;
    doc.getElementById("page-prev").disabled = state.page === 0;
    doc.getElementById("page-next").disabled = state.page >= pages - 1;
  }

  function refilter() {
    state.hits = [];
    for (var i = 0; i < state.data.rows.length; i++) if (matches(i)) state.hits.push(i);
    state.page = 0;
    render();
  }

  function openCase(id) {
    if (!state.data || id.indexOf("case-") !== 0) return false;
    for (var i = 0; i < state.data.rows.length; i++) {
      if (anchorOf(i) !== id) continue;
      state.col = ""; state.kind = ""; state.seg = ""; state.q = "";
      each(doc.querySelectorAll("#case-filters select, #case-filters input"), function (f) { f.value = ""; });
      state.hits = [];
      for (var j = 0; j < state.data.rows.length; j++) state.hits.push(j);
      state.page = Math.floor(i / state.size);
      state.open[i] = true;
      render();
      var target = doc.getElementById(id);
      if (target) reveal(target);
      return true;
    }
    return false;
  }

  function initCases(data) {
    state.data = data;
    var filters = doc.getElementById("case-filters");
    filters.hidden = false;
    var bind = function (id, key, lower) {
      var f = doc.getElementById(id);
      f.addEventListener("input", function () { state[key] = lower ? f.value.trim().toLowerCase() : f.value; refilter(); });
    };
    bind("f-col", "col"); bind("f-kind", "kind"); bind("f-seg", "seg"); bind("f-q", "q", true);
    doc.getElementById("page-prev").addEventListener("click", function () { state.page -= 1; render(); });
    doc.getElementById("page-next").addEventListener("click", function () { state.page += 1; render(); });
    doc.querySelector("#case-table tbody").addEventListener("click", function (ev) {
      var btn = ev.target.closest ? ev.target.closest("button.open-case") : null;
      if (!btn) return;
      var tr = btn.closest("tr");
      toggle(parseInt(tr.getAttribute("data-index"), 10), tr);
    });
    refilter();
  }

  function onHash() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    if (!id) return;
    if (openCase(id)) return;
    var target = doc.getElementById(id);
    if (target) reveal(target);
  }

  function init() {
    initSorting();
    window.addEventListener("hashchange", onHash);
    // A click on an in-page link to the hash already in the address bar fires no hashchange.
    doc.addEventListener("click", function (ev) {
      var a = ev.target.closest ? ev.target.closest("a[href^='#']") : null;
      if (a && a.getAttribute("href") === window.location.hash) setTimeout(onHash, 0);
    });
    var finish = function () { onHash(); doc.documentElement.setAttribute("data-ready", "1"); };
    var blob = doc.getElementById("case-data");
    if (!blob) { finish(); return; }
    var status = doc.getElementById("case-count");
    if (typeof DecompressionStream === "undefined") {
      status.textContent = "This browser cannot unpack the embedded case data (it needs DecompressionStream).";
      finish();
      return;
    }
    decode(blob.textContent).then(function (data) { initCases(data); finish(); }, function (err) {
      status.textContent = "Could not read the embedded case data: " + err;
      finish();
    });
  }
  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", init);
  else init();
})();
