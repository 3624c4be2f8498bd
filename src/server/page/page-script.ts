/**
 * The live page's script: plain browser JavaScript, served inline after the SDK's browser bundle
 * (actorhub/client as the global `actorhub`, dist/browser/actorhub-client.js). On the JSON
 * protocol it is an SDK application: it reconnects by itself, resubscribes, and shows the
 * connection's state, recoveries and gaps. Under the relay protocol (which the SDK does not
 * speak) it uses a plain WebSocket. It reads GET /stats. Kept as a string because the project
 * compiles without the DOM library; it must not contain a backtick or a dollar-brace.
 */
export const pageScript = String.raw`
"use strict";
(function () {
  var cfg = JSON.parse(document.getElementById("actorhub-config").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var relay = cfg.protocol !== "json";
  var client = null, ws = null, myId = null, up = false;
  var topics = [], subs = new Map(), active = null, members = new Map();
  var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + cfg.path;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function hue(id) { var h = 0; for (var i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) % 360; return h; }
  function avatar(id) {
    var a = el("span", "avatar", id.slice(0, 2).toUpperCase());
    a.style.background = "hsl(" + hue(id) + " 55% 48%)";
    return a;
  }
  function show(data) { return typeof data === "string" ? data : JSON.stringify(data); }

  function log(kind, meta, text) {
    var box = $("log"), row = el("div", "msg " + kind);
    if (meta) row.appendChild(el("span", "meta", meta));
    row.appendChild(document.createTextNode(text));
    var atEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    box.appendChild(row);
    while (box.children.length > 300) box.removeChild(box.firstChild);
    if (atEnd) box.scrollTop = box.scrollHeight;
  }

  function setStatus(isUp, text, cls) {
    up = isUp;
    var s = $("status");
    s.className = "pill " + (cls || (isUp ? "up" : "down"));
    s.textContent = text;
    $("connect").textContent = client || (ws && ws.readyState <= 1) ? "Disconnect" : "Connect";
    ["topic", "join"].forEach(function (id) { $(id).disabled = relay || !client; });
    $("text").disabled = !isUp || (!relay && !active);
    $("send").disabled = $("text").disabled;
  }

  function renderTopics() {
    var list = $("topics");
    list.textContent = "";
    if (topics.length === 0) list.appendChild(el("li", "empty", relay ? "The relay protocol has no topics." : "Join a topic to start."));
    topics.forEach(function (t) {
      var li = el("li", t === active ? "active" : "");
      li.dataset.topic = t;
      var sub = subs.get(t);
      li.dataset.state = sub ? sub.state : "unsubscribed";
      li.appendChild(el("span", "", "# " + t));
      if (sub && sub.state !== "subscribed") li.appendChild(el("small", "sub-state", sub.state));
      var leave = el("button", "ghost", "Leave");
      leave.onclick = function (e) { e.stopPropagation(); leaveTopic(t); };
      li.appendChild(leave);
      li.onclick = function () { select(t); };
      list.appendChild(li);
    });
    $("to").textContent = "";
    if (relay) $("to").appendChild(document.createTextNode("To every other client (relay)"));
    else if (active) { $("to").appendChild(document.createTextNode("Publishing to ")); $("to").appendChild(el("b", "", active)); }
    else $("to").appendChild(document.createTextNode("Join or pick a topic to publish."));
    $("text").disabled = !up || (!relay && !active);
    $("send").disabled = $("text").disabled;
  }

  function renderPresence() {
    var list = $("presence");
    list.textContent = "";
    $("presence-topic").textContent = active ? active : "—";
    var ids = active ? (members.get(active) || []) : [];
    if (ids.length === 0) list.appendChild(el("li", "empty", active ? "Nobody yet." : "No topic selected."));
    ids.forEach(function (id) {
      var li = el("li");
      li.dataset.member = id;
      li.appendChild(avatar(id));
      li.appendChild(el("span", "", id));
      if (id === myId) li.appendChild(el("span", "you", "you"));
      list.appendChild(li);
    });
  }

  function setMembers(topic, list) {
    members.set(topic, list.map(function (m) { return m.id; }));
    if (topic === active) renderPresence();
  }

  // Without presence events the hub sends no joined/left: ask on select and every few seconds.
  function refreshPresence(topic) {
    if (!topic || relay || !client || !up) return;
    client.presence(topic).then(function (r) { setMembers(topic, r.members); }, function () {});
  }

  function select(t) { active = t; renderTopics(); renderPresence(); refreshPresence(t); }

  function subscribe(t) {
    var first = true;
    var sub = client.subscribe(t, function (data, info) {
      log("", "#" + t + " · " + (info.from || "server") + (info.offset !== undefined ? " · offset " + info.offset : ""), show(data));
    }, { presence: true });
    subs.set(t, sub);
    sub.on("state", function (s) {
      renderTopics();
      if (s === "subscribed") {
        log("note", "", (first ? "joined " : "resubscribed to ") + t);
        if (first && topics.indexOf(t) >= 0) select(t);
        first = false;
      } else if (s === "failed") {
        log("err", "", "cannot join " + t + ": " + sub.error.code + ": " + sub.error.message);
        subs.delete(t);
        topics = topics.filter(function (x) { return x !== t; });
        if (active === t) active = topics[0] || null;
        renderTopics(); renderPresence();
      }
    });
    sub.on("recovered", function (r) { log("note recovered", "", "#" + t + ": recovered what was missed after offset " + r.from.offset); });
    sub.on("gap", function (g) {
      log("err gap", "", "#" + t + ": messages after offset " + g.from.offset + " could not be recovered (" +
        (g.from.epoch === g.to.epoch ? "too old" : "the stream was restarted") + "); continuing from offset " + g.to.offset);
    });
    sub.on("presence", function (list) { setMembers(t, list); });
  }

  function joinTopic(t) {
    if (topics.indexOf(t) >= 0) return select(t);
    topics.push(t);
    try { subscribe(t); } catch (e) { log("err", "", e.message); }
    renderTopics();
  }

  function leaveTopic(t) {
    var sub = subs.get(t);
    if (sub) sub.unsubscribe();
    subs.delete(t);
    topics = topics.filter(function (x) { return x !== t; });
    members.delete(t);
    if (active === t) active = topics[0] || null;
    log("note", "", "left " + t);
    renderTopics(); renderPresence(); refreshPresence(active);
  }

  function describe(why) {
    return why && why.code ? " (" + why.code + (why.reason ? " " + why.reason : "") + ")" : "";
  }

  function start() {
    client = actorhub.createClient(url, { reconnect: { minDelayMs: 250, maxDelayMs: 5000 } });
    setStatus(false, "connecting…", "down");
    client.on("state", function (state, why) {
      if (state === "connected") {
        myId = client.id;
        $("me").textContent = "you are " + myId;
        setStatus(true, "connected");
        log("note", "", "connected as " + myId);
        refreshPresence(active);
        poll();
      } else if (state === "reconnecting") {
        myId = null; $("me").textContent = "";
        setStatus(false, "reconnecting…" + describe(why));
        log("note", "", "connection lost" + describe(why) + ": reconnecting");
        renderPresence();
        poll();
      } else if (state === "closed") {
        myId = null; $("me").textContent = "";
        client = null; subs.clear();
        setStatus(false, "disconnected" + describe(why));
        if (why.terminal) log("err", "", "the hub ended the connection" + describe(why) + ": not reconnecting");
        renderTopics(); renderPresence();
        poll();
      }
    });
    client.on("message", function (data, info) { log("", (info.topic ? "#" + info.topic + " · " : "direct · ") + (info.from || "server"), show(data)); });
    client.on("error", function (e) { log("err", "", e.code + ": " + e.message); });
    topics.forEach(subscribe);
    renderTopics();
  }

  // The relay protocol: no envelope, no ids; the SDK does not speak it.
  function startRelay() {
    ws = new WebSocket(url);
    setStatus(false, "connecting…");
    ws.onopen = function () { setStatus(true, "connected (relay)"); $("me").textContent = "relay: no ids"; poll(); };
    ws.onmessage = function (e) { log("", "relay", typeof e.data === "string" ? e.data : "(binary message)"); };
    ws.onclose = function (e) {
      setStatus(false, "disconnected" + (e.code ? " (" + e.code + (e.reason ? " " + e.reason : "") + ")" : ""));
      $("me").textContent = "";
      poll();
    };
  }

  $("connect").onclick = function () {
    if (relay) { if (ws && ws.readyState <= 1) ws.close(1000, "bye"); else startRelay(); return; }
    if (client) { client.close(); } else start();
  };
  $("join-form").onsubmit = function (e) {
    e.preventDefault();
    var t = $("topic").value.trim();
    if (t && client) { joinTopic(t); $("topic").value = ""; }
  };
  $("compose").onsubmit = function (e) {
    e.preventDefault();
    var text = $("text").value;
    if (!text) return;
    $("text").value = "";
    if (relay) { ws.send(text); return log("mine", "you → everyone", text); }
    var topic = active;
    client.publish(topic, text).then(function (r) {
      var m = r.forwarded || 0;
      log("mine", "you → #" + topic + " · delivered to " + r.delivered + (m ? " here, " + m + " on other nodes" : "") + (r.offset !== undefined ? " · offset " + r.offset : ""), text);
    }, function (err) { log("err", "", err.code + ": " + err.message); });
  };

  // Hub figures: GET /stats once a second, and at once when this page connects or leaves (so it
  // never shows the count from before its own connection). Rates come from the hub, the same
  // for every page at the same moment.
  var last = null;
  function fmt(n) { return n >= 1e6 ? (n / 1e6).toFixed(1) + "M" : n >= 1e4 ? (n / 1e3).toFixed(1) + "k" : n > 0 && n < 10 && n % 1 ? n.toFixed(1) : String(Math.round(n)); }
  var asked = 0, shown = 0;
  function poll() {
    var mine = ++asked;
    fetch(cfg.stats, { cache: "no-store" }).then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); }).then(function (s) {
      if (mine < shown) return; // an older answer arriving late must not undo a newer one
      shown = mine;
      var now = performance.now();
      $("stat-clients").textContent = fmt(s.clients);
      $("stat-topics").textContent = fmt(s.topics);
      if (typeof s.messagesInPerSec === "number") {
        $("stat-in").textContent = fmt(s.messagesInPerSec);
        $("stat-out").textContent = fmt(s.messagesOutPerSec);
      } else if (last) {
        var dt = (now - last.t) / 1000;
        $("stat-in").textContent = fmt(Math.max(0, s.messagesIn - last.in) / dt);
        $("stat-out").textContent = fmt(Math.max(0, s.messagesOut - last.out) / dt);
      }
      last = { t: now, in: s.messagesIn, out: s.messagesOut };
      $("stat-foot").textContent = "hub " + (typeof s.state === "string" ? s.state : JSON.stringify(s.state)) + " · up " + Math.round(s.uptimeMs / 1000) + " s · " + fmt(s.connectionsTotal) + " connections so far";
    }).catch(function () { $("stat-foot").textContent = "stats unavailable (" + cfg.stats + ")"; });
  }
  setInterval(poll, 1000); poll();
  setInterval(function () { refreshPresence(active); }, 3000);

  renderTopics(); renderPresence();
  if (relay) { $("relay").hidden = false; startRelay(); }
  else if (typeof actorhub === "undefined") {
    $("sdk-missing").hidden = false;
    setStatus(false, "no client bundle");
  } else start();
})();
`;
