/**
 * The viewer page's script: plain browser JavaScript, served inline. It reads the feed
 * (server-sent events from the same origin) and draws the machines from their definitions.
 * Kept as a string because the project compiles without the DOM library; it must not contain
 * a backtick or a dollar-brace.
 */
export const viewerScript = String.raw`
"use strict";
(function () {
  var cfg = JSON.parse(document.getElementById("viewer-config").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var SVG = "http://www.w3.org/2000/svg";
  var source = null, defs = null, follow = null, paused = false;
  var rows = [];

  function el(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function h(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  function time(t) { var d = new Date(t); return d.toTimeString().slice(0, 8) + "." + String(d.getMilliseconds()).padStart(3, "0"); }

  // One machine: its states in a row, each transition between two states an arc labelled
  // "event [guard]" (above when it goes right, below when it goes left); targetless ones in the table.
  function draw(svg, table, def) {
    svg.textContent = "";
    var states = def.states.filter(function (s) { return s.path.indexOf(".") < 0; });
    var n = states.length, W = 820, Y = 190, BW = 124, BH = 46;
    var x = {};
    states.forEach(function (s, i) { x[s.path] = n === 1 ? W / 2 : 90 + (i * (W - 180)) / (n - 1); });
    var marker = el("marker", { id: svg.id + "-arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" });
    marker.appendChild(el("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#8a90a6" }));
    var d = el("defs", {}); d.appendChild(marker); svg.appendChild(d);
    var pairs = {}, maxUp = 0, maxDown = 0;
    def.transitions.forEach(function (t) {
      if (!t.target || t.source === "(machine)" || x[t.source] === undefined) return;
      t.target.split(", ").forEach(function (target) {
        if (x[target] === undefined || target === t.source) return;
        var key = t.source + ">" + target;
        var k = pairs[key] = (pairs[key] || 0) + 1;
        var right = x[target] > x[t.source];
        var lift = 34 + 21 * (k - 1);
        if (right) maxUp = Math.max(maxUp, lift); else maxDown = Math.max(maxDown, lift);
        var x1 = x[t.source] + (right ? BW / 2 : -BW / 2), x2 = x[target] + (right ? -BW / 2 : BW / 2);
        var y1 = Y + (right ? -BH / 2 : BH / 2), dir = right ? -1 : 1;
        var cy = y1 + dir * 2 * lift;
        var g = el("g", { "class": "edge", "data-event": t.event });
        g.appendChild(el("path", { d: "M " + x1 + " " + y1 + " Q " + (x1 + x2) / 2 + " " + cy + " " + x2 + " " + y1, "marker-end": "url(#" + svg.id + "-arrow)" }));
        g.appendChild(el("text", { x: (x1 + x2) / 2, y: y1 + dir * lift + (right ? -3 : 11) }, t.event + (t.guard ? " [" + t.guard + "]" : "")));
        svg.appendChild(g);
      });
    });
    states.forEach(function (s) {
      var g = el("g", { "class": "state" + (s.final ? " final" : ""), "data-state": s.path });
      g.appendChild(el("rect", { x: x[s.path] - BW / 2, y: Y - BH / 2, width: BW, height: BH, rx: 10 }));
      g.appendChild(el("text", { x: x[s.path], y: Y - 3 }, s.path));
      g.appendChild(el("text", { "class": "count", x: x[s.path], y: Y + 14, "data-count": s.path }, ""));
      svg.appendChild(g);
    });
    if (def.initial && x[def.initial] !== undefined) {
      svg.appendChild(el("circle", { cx: x[def.initial] - BW / 2 - 26, cy: Y, r: 6, fill: "#1d2230" }));
      svg.appendChild(el("path", { d: "M " + (x[def.initial] - BW / 2 - 20) + " " + Y + " L " + (x[def.initial] - BW / 2 - 2) + " " + Y, stroke: "#1d2230", "marker-end": "url(#" + svg.id + "-arrow)" }));
    }
    var top = Y - BH / 2 - maxUp - 16, bottom = Y + BH / 2 + maxDown + 16;
    svg.setAttribute("viewBox", "0 " + Math.min(top, Y - 60) + " " + W + " " + (Math.max(bottom, Y + 60) - Math.min(top, Y - 60)));
    table.textContent = "";
    def.transitions.forEach(function (t) {
      var tr = h("tr");
      [t.source, t.event + (t.guard ? " [" + t.guard + "]" : ""), t.target ? "→ " + t.target : "", t.actions.join(", ")].forEach(function (c) { tr.appendChild(h("td", c)); });
      table.appendChild(tr);
    });
  }

  function mark(svg, current, counts, followed) {
    svg.querySelectorAll(".state").forEach(function (g) {
      var s = g.getAttribute("data-state");
      g.classList.toggle("current", current === s);
      g.classList.toggle("followed", followed === s);
    });
    if (counts) svg.querySelectorAll("[data-count]").forEach(function (t) {
      var s = t.getAttribute("data-count");
      t.textContent = (counts[s] || 0) + " clients";
    });
  }

  function showHub(hub, counts) {
    if (!hub) return;
    $("hub-line").textContent = "hub " + hub.value + " · " + hub.clients + " clients";
    mark($("hub-diagram"), String(hub.value), null, null);
    var total = 0; for (var k in counts) total += counts[k];
    $("client-total").textContent = total + " live";
    mark($("client-diagram"), null, counts, follow && follow.connected ? String(follow.value) : null);
  }

  function visible(r) {
    var f = $("filter").value.trim().toLowerCase(), kind = $("kind").value;
    if (kind === "hub" && r.actor !== "hub") return false;
    if (kind === "clients" && (r.actor === "hub" || r.actor.indexOf("hub.") === 0)) return false;
    return !f || r.type.toLowerCase().indexOf(f) >= 0 || r.actor.toLowerCase().indexOf(f) >= 0;
  }
  function renderEvents() {
    var body = $("events");
    body.textContent = "";
    rows.filter(visible).slice(-200).forEach(function (r) {
      var tr = h("tr");
      tr.appendChild(h("td", time(r.t))); tr.appendChild(h("td", r.actor)); tr.appendChild(h("td", r.type));
      body.appendChild(tr);
    });
    body.scrollTop = body.scrollHeight;
  }

  function showFollow(f) {
    if (!f) return;
    follow = f;
    $("followed-id").textContent = f.id;
    $("followed-state").textContent = f.connected ? "state: " + f.value + " (" + f.status + ")" : "not connected (left, or never was)";
    (f.events || []).forEach(function (e) {
      var tr = h("tr");
      var why = e.event && e.event.code !== undefined ? " " + e.event.code + (e.event.reason ? " " + e.event.reason : "") : "";
      tr.appendChild(h("td", time(e.t))); tr.appendChild(h("td", e.type + why)); tr.appendChild(h("td", String(e.value)));
      tr.setAttribute("data-event", e.type);
      $("followed").appendChild(tr);
      if (e.value !== undefined) $("followed-state").textContent = "state: " + e.value + (f.connected ? "" : " (stopped)");
    });
  }

  function open() {
    if (source) source.close();
    var url = cfg.feed + (follow && follow.id ? "?follow=" + encodeURIComponent(follow.id) : "");
    source = new EventSource(url);
    source.addEventListener("open", function () { $("status").className = "pill up"; $("status").textContent = "live"; });
    source.addEventListener("error", function () { $("status").className = "pill down"; $("status").textContent = "disconnected"; });
    source.addEventListener("init", function (m) {
      var data = JSON.parse(m.data);
      if (!defs) {
        defs = data.definitions;
        draw($("hub-diagram"), $("hub-table"), defs.hub);
        draw($("client-diagram"), $("client-table"), defs.client);
      }
      if (data.follow) showFollow(data.follow);
      showHub(data.hub, data.counts);
    });
    source.addEventListener("tick", function (m) {
      var data = JSON.parse(m.data);
      if (data.follow) showFollow(data.follow);
      showHub(data.hub, data.counts);
      if (paused) return;
      rows = rows.concat(data.events).slice(-1000);
      var more = 0; for (var k in data.more) more += data.more[k];
      $("sampled").textContent = more ? "+" + more + " more in the last tick (sampled)" : "";
      renderEvents();
    });
  }

  $("follow-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var id = $("follow-id").value.trim();
    follow = id ? { id: id } : null;
    $("followed").textContent = "";
    $("followed-id").textContent = id || "none";
    $("followed-state").textContent = "";
    open();
  });
  $("unfollow").addEventListener("click", function () { follow = null; $("followed").textContent = ""; $("followed-id").textContent = "none"; $("followed-state").textContent = ""; open(); });
  $("filter").addEventListener("input", renderEvents);
  $("kind").addEventListener("change", renderEvents);
  $("pause").addEventListener("click", function () { paused = !paused; $("pause").textContent = paused ? "Resume" : "Pause"; });
  open();
})();
`;
