// 导诊台: the live board of every room, a person's places, and the moves
// (send, jump, move, reroute, VIP, level, leave, join, phone link), room
// states and evacuation. Redrawn from /api/queue/board on every `changed`.
(function () {
  "use strict";
  var el = Desk.el, call = Desk.call;
  var campus = document.querySelector('meta[name="campus"]').content;
  var q = "?campus=" + encodeURIComponent(campus);
  var current = null; // the person shown
  var roomNames = {}; // code → name, from the last board
  var states = { open: "开放", locked: "锁定", closed: "关闭" };
  var at = { waiting: "等候中", called: "检查中", unrouted: "待导诊台处理", done: "已全部完成", left: "已移出今日队列" };

  function rows(id, list) {
    var tb = document.querySelector("#" + id + " tbody");
    tb.textContent = "";
    list.forEach(function (r) { tb.appendChild(r); });
  }
  function names(list) {
    return list.map(function (p) { return p.name + (p.long ? "⚠" : ""); }).join("、");
  }
  function act(method, url, body) {
    return call(method, url, body).then(function () { refresh(); }, function (e) {
      document.getElementById("find-msg").textContent = e.message;
    });
  }
  function drawBoard(b) {
    b.rooms.forEach(function (r) { roomNames[r.code] = r.name; });
    document.getElementById("totals").textContent =
      "今日 " + b.joined_today + " 人 · 在检 " + b.in_building + " · 完成 " + b.done_today;
    document.getElementById("long-min").textContent = b.long_wait_min;
    rows("rooms", b.rooms.map(function (r) {
      var ops = el("td", {}, [
        el("button", { class: "small", text: "开放", "data-op": "open", onclick: function () { act("POST", "/api/queue/rooms/" + r.code + "/state" + q, { state: "open" }); } }),
        el("button", { class: "small", text: "锁定", "data-op": "locked", onclick: function () { act("POST", "/api/queue/rooms/" + r.code + "/state" + q, { state: "locked" }); } }),
        el("button", { class: "small", text: "关闭", "data-op": "closed", onclick: function () { act("POST", "/api/queue/rooms/" + r.code + "/state" + q, { state: "closed" }); } }),
        el("button", { class: "small", text: "疏散", "data-op": "evacuate", onclick: function () {
          if (confirm("疏散 " + r.name + "：等候人员将分到其他科室？")) act("POST", "/api/queue/rooms/" + r.code + "/evacuate" + q);
        } }),
        el("button", { class: "small", "data-op": "screen", text: "屏幕", onclick: function () {
          call("POST", "/api/queue/rooms/" + r.code + "/screen-link" + q).then(function (l) {
            document.getElementById("find-msg").textContent = r.name + " 显示屏：" + location.origin + l.url;
          });
        } })
      ]);
      return el("tr", { "data-room": r.code, "data-state": r.state }, [
        el("td", { text: r.name + (r.prequeue ? "（预排）" : "") }),
        el("td", { text: String(r.floor) }),
        el("td", { class: "state", text: states[r.state] || r.state }),
        el("td", { text: String(r.desks) }),
        el("td", { class: "serving", text: names(r.serving) }),
        el("td", { class: "waiting", "data-ids": r.waiting.map(function (p) { return p.id; }).join(","), text: r.waiting_count + " 人 " + names(r.waiting.slice(0, 6)) + (r.waiting_count > 6 ? "…" : "") }),
        el("td", { text: String(r.done) }),
        el("td", { text: r.mean_wait_min == null ? "—" : r.mean_wait_min.toFixed(0) + " 分" }),
        ops
      ]);
    }));
    rows("long", b.long_waits.map(function (p) {
      return el("tr", { "data-id": p.id }, [el("td", { text: p.name }), el("td", { text: p.exam_no }),
        el("td", { text: p.waited_min + " 分" }),
        el("td", {}, [el("button", { class: "small", text: "重新分配", onclick: function () { act("POST", "/api/queue/visits/" + p.id + "/reroute"); } })])]);
    }));
    rows("unroutable", b.unroutable.map(function (p) {
      return el("tr", { "data-id": p.id }, [el("td", { text: p.name }), el("td", { text: p.exam_no })]);
    }));
    var sel = document.getElementById("p-room");
    if (!sel.options.length) {
      b.rooms.forEach(function (r) { sel.appendChild(el("option", { value: r.code, text: r.name })); });
    }
  }
  function drawPerson(p) {
    current = p.id;
    document.getElementById("person").hidden = false;
    document.getElementById("p-title").textContent = p.name + " · " + p.exam_no;
    var where = p.at ? (at[p.at.at] || p.at.at) + (p.at.room ? "：" + (roomNames[p.at.room] || p.at.room) : "") : "未入队";
    document.getElementById("p-at").textContent = where;
    rows("p-places", p.places.map(function (x) {
      return el("tr", { "data-room": x.room }, [el("td", { text: x.room_name + (x.prequeue ? "（预排号）" : "") }),
        el("td", { text: String(x.floor) }), el("td", { text: "第 " + (x.place + 1) + " 位" }), el("td", {})]);
    }));
    document.getElementById("p-pending").textContent = p.pending.map(function (r) { return r.room_name; }).join("、") || "—";
    document.getElementById("p-done").textContent = p.done.map(function (r) { return r.room_name; }).join("、") || "—";
  }
  function loadPerson() {
    if (current == null) return Promise.resolve();
    return call("GET", "/api/queue/visits/" + current).then(drawPerson);
  }
  function refresh() {
    return call("GET", "/api/queue/board" + q).then(drawBoard).then(loadPerson).catch(function (e) {
      document.getElementById("live").textContent = "未能刷新：" + e.message;
    });
  }
  document.getElementById("find").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var v = document.getElementById("find-q").value.trim();
    if (!v) return;
    call("GET", "/api/queue/find?q=" + encodeURIComponent(v)).then(function (f) {
      current = f.id;
      document.getElementById("find-msg").textContent = "";
      return loadPerson();
    }, function (e) { document.getElementById("find-msg").textContent = e.message; });
  });
  function on(id, f) { document.getElementById(id).addEventListener("click", function () { if (current != null) f(current); }); }
  on("p-send", function (id) { act("POST", "/api/queue/visits/" + id + "/send", { room: document.getElementById("p-room").value }); });
  on("p-jump", function (id) { act("POST", "/api/queue/visits/" + id + "/move", { position: 0 }); });
  on("p-move", function (id) { act("POST", "/api/queue/visits/" + id + "/move", { position: Number(document.getElementById("p-pos").value) || 0 }); });
  on("p-reroute", function (id) { act("POST", "/api/queue/visits/" + id + "/reroute"); });
  on("p-vip", function (id) { act("POST", "/api/queue/visits/" + id + "/priority", { level: Number(document.getElementById("p-level").value), vip: true }); });
  on("p-level-set", function (id) { act("POST", "/api/queue/visits/" + id + "/priority", { level: Number(document.getElementById("p-level").value), vip: false }); });
  on("p-leave", function (id) { if (confirm("改日检：移出今日队列？")) act("POST", "/api/queue/visits/" + id + "/leave"); });
  on("p-join", function (id) { act("POST", "/api/queue/visits/" + id + "/join"); });
  on("p-phone", function (id) {
    call("POST", "/api/queue/visits/" + id + "/phone-link").then(function (l) {
      document.getElementById("p-link").textContent = location.origin + l.url;
    });
  });
  var es = new EventSource("/api/queue/stream" + q);
  es.addEventListener("changed", function () { refresh(); });
  es.onerror = function () { document.getElementById("live").textContent = "连接中断，正在重连…"; };
  es.onopen = function () { document.getElementById("live").textContent = "实时更新"; };
  refresh();
})();
