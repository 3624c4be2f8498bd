/**
 * The live page's script: plain browser JavaScript, served inline. It speaks only the
 * documented JSON protocol (docs/protocol.md) and reads GET /stats. Kept as a string because
 * the project compiles without the DOM library; it must not contain a backtick or a dollar-brace.
 */
export const pageScript = String.raw`
"use strict";
(function () {
  var cfg = JSON.parse(document.getElementById("actorhub-config").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var ws = null, myId = null, nextRef = 1, pending = new Map();
  var topics = [], active = null, members = new Map();
  var relay = cfg.protocol !== "json";

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

  function call(cmd) {
    return new Promise(function (resolve, reject) {
      if (!ws || ws.readyState !== 1) return reject(new Error("not connected"));
      var ref = nextRef++;
      pending.set(ref, { resolve: resolve, reject: reject });
      cmd.ref = ref;
      ws.send(JSON.stringify(cmd));
    });
  }

  function setStatus(up, text) {
    var s = $("status");
    s.className = "pill " + (up ? "up" : "down");
    s.textContent = text;
    $("connect").textContent = up ? "Disconnect" : "Connect";
    var usable = up && !relay;
    ["topic", "join"].forEach(function (id) { $(id).disabled = !usable; });
    $("text").disabled = !up || (!relay && !active);
    $("send").disabled = $("text").disabled;
  }

  function renderTopics() {
    var list = $("topics");
    list.textContent = "";
    if (topics.length === 0) list.appendChild(el("li", "empty", relay ? "The relay protocol has no topics." : "Join a topic to start."));
    topics.forEach(function (t) {
      var li = el("li", t === active ? "active" : "");
      li.dataset.topic = t;
      li.appendChild(el("span", "", "# " + t));
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
    setStatus(!!(ws && ws.readyState === 1), $("status").textContent);
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

  function refreshPresence(topic) {
    if (!topic || relay) return;
    call({ type: "presence", topic: topic }).then(function (r) {
      members.set(topic, r.result.members.map(function (m) { return m.id; }));
      if (topic === active) renderPresence();
    }, function () {});
  }

  function select(t) { active = t; renderTopics(); renderPresence(); refreshPresence(t); }

  function joinTopic(t) {
    call({ type: "subscribe", topic: t }).then(function () {
      if (topics.indexOf(t) < 0) topics.push(t);
      log("note", "", "joined " + t);
      select(t);
    }, function (e) { log("err", "", e.message); });
  }

  function leaveTopic(t) {
    call({ type: "unsubscribe", topic: t }).then(function () {
      topics = topics.filter(function (x) { return x !== t; });
      members.delete(t);
      if (active === t) active = topics[0] || null;
      log("note", "", "left " + t);
      renderTopics(); renderPresence(); refreshPresence(active);
    }, function (e) { log("err", "", e.message); });
  }

  function onFrame(f) {
    if ((f.type === "ack" || f.type === "error") && pending.has(f.ref)) {
      var p = pending.get(f.ref); pending.delete(f.ref);
      if (f.type === "ack") p.resolve(f); else p.reject(new Error(f.code + ": " + f.message));
      return;
    }
    switch (f.type) {
      case "welcome":
        myId = f.id;
        $("me").textContent = "you are " + f.id;
        setStatus(true, "connected");
        log("note", "", "connected as " + f.id);
        topics.forEach(function (t) { joinTopic(t); });
        break;
      case "message":
        log("", (f.topic ? "#" + f.topic + " · " : "direct · ") + (f.from || "server"), show(f.data));
        break;
      case "joined": case "left":
        refreshPresence(f.topic);
        break;
      case "error":
        log("err", "", f.code + ": " + f.message);
        break;
    }
  }

  function connect() {
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + cfg.path;
    ws = new WebSocket(url);
    setStatus(false, "connecting…");
    ws.onopen = function () {
      if (relay) { setStatus(true, "connected (relay)"); $("me").textContent = "relay: no ids"; }
    };
    ws.onmessage = function (e) {
      if (relay) return log("", "relay", typeof e.data === "string" ? e.data : "(binary message)");
      var f;
      try { f = JSON.parse(e.data); } catch (err) { return log("err", "", "unreadable frame"); }
      onFrame(f);
    };
    ws.onclose = function (e) {
      pending.forEach(function (p) { p.reject(new Error("connection closed")); });
      pending.clear();
      myId = null; members.clear();
      $("me").textContent = "";
      setStatus(false, "disconnected" + (e.code ? " (" + e.code + (e.reason ? " " + e.reason : "") + ")" : ""));
      renderPresence();
    };
  }

  $("connect").onclick = function () { if (ws && ws.readyState <= 1) ws.close(1000, "bye"); else connect(); };
  $("join-form").onsubmit = function (e) {
    e.preventDefault();
    var t = $("topic").value.trim();
    if (t) { joinTopic(t); $("topic").value = ""; }
  };
  $("compose").onsubmit = function (e) {
    e.preventDefault();
    var text = $("text").value;
    if (!text) return;
    $("text").value = "";
    if (relay) { ws.send(text); return log("mine", "you → everyone", text); }
    var topic = active;
    call({ type: "publish", topic: topic, data: text }).then(function (r) {
      var n = r.result.delivered;
      log("mine", "you → #" + topic + " · delivered to " + n, text);
    }, function (err) { log("err", "", err.message); });
  };

  // Hub figures: GET /stats once a second; rates from the counters' deltas.
  var last = null;
  function fmt(n) { return n >= 1e6 ? (n / 1e6).toFixed(1) + "M" : n >= 1e4 ? (n / 1e3).toFixed(1) + "k" : n > 0 && n < 10 && n % 1 ? n.toFixed(1) : String(Math.round(n)); }
  function poll() {
    fetch(cfg.stats, { cache: "no-store" }).then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); }).then(function (s) {
      var now = performance.now();
      $("stat-clients").textContent = fmt(s.clients);
      $("stat-topics").textContent = fmt(s.topics);
      if (last) {
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

  if (relay) $("relay").hidden = false;
  renderTopics(); renderPresence();
  connect();
})();
`;
