// 医生站: one room's current, queue, history and unassigned people; call
// next, call a named person, recall, no-show (过号), finish.
(function () {
  "use strict";
  var el = Desk.el, call = Desk.call;
  var campus = document.querySelector('meta[name="campus"]').content;
  var q = "?campus=" + encodeURIComponent(campus);
  var roomSel = document.getElementById("room");
  var saved = localStorage.getItem("station-room");
  if (saved) roomSel.value = saved;
  var results = { called: "检查中", done: "完成", no_show: "过号", moved: "转科", left: "离开" };
  function msg(t) { document.getElementById("msg").textContent = t; }
  function rows(id, list) {
    var tb = document.querySelector("#" + id + " tbody");
    tb.textContent = "";
    list.forEach(function (r) { tb.appendChild(r); });
  }
  function act(url) {
    return call("POST", url).then(function (r) {
      var c = (r.decisions || []).filter(function (d) { return d.decision === "called"; })[0];
      msg(c ? "已呼叫" : "完成");
      refresh();
    }, function (e) { msg(e.message); });
  }
  function time(t) { return t ? new Date(t).toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit" }) : ""; }
  function refresh() {
    var room = roomSel.value;
    return call("GET", "/api/queue/rooms/" + room + q).then(function (v) {
      var r = v.room;
      document.getElementById("room-kind").textContent = r.prequeue ? "预排号（按号依次激活，正在其他科室的会跳过）" : "本室队列";
      rows("serving", r.serving.map(function (p) {
        return el("tr", { "data-id": p.id }, [el("td", { text: p.name }), el("td", { text: p.exam_no }), el("td", {}, [
          el("button", { class: "small", text: "重呼", "data-op": "recall", onclick: function () { act("/api/queue/visits/" + p.id + "/recall"); } }),
          el("button", { class: "small", text: "过号", "data-op": "no-show", onclick: function () { act("/api/queue/visits/" + p.id + "/no-show"); } }),
          el("button", { text: "完成", "data-op": "finish", class: "primary", onclick: function () { act("/api/queue/visits/" + p.id + "/finish"); } })
        ])]);
      }));
      rows("waiting", r.waiting.map(function (p, i) {
        return el("tr", { "data-id": p.id }, [el("td", { text: String(i + 1) }), el("td", { text: p.name }), el("td", { text: p.exam_no }),
          el("td", { text: p.waited_min == null ? "" : p.waited_min + " 分" }),
          el("td", {}, [el("button", { class: "small", text: "呼叫此人", onclick: function () { act("/api/queue/rooms/" + room + "/call/" + p.id); } })])]);
      }));
      rows("history", v.history.map(function (h) {
        return el("tr", {}, [el("td", { text: h.name }), el("td", { text: h.exam_no }), el("td", { text: results[h.state] || h.state }),
          el("td", { text: time(h.called_at) }), el("td", { text: time(h.ended_at) })]);
      }));
      rows("unassigned", v.unassigned.map(function (p) {
        return el("tr", {}, [el("td", { text: p.name }), el("td", { text: p.exam_no })]);
      }));
    }).catch(function (e) { msg(e.message); });
  }
  roomSel.addEventListener("change", function () { localStorage.setItem("station-room", roomSel.value); refresh(); });
  document.getElementById("call-next").addEventListener("click", function () {
    act("/api/queue/rooms/" + roomSel.value + "/call-next" + q);
  });
  var es = new EventSource("/api/queue/stream" + q);
  es.addEventListener("changed", function () { refresh(); });
  refresh();
})();
