// 手机导检: where the person is, their place in each queue, pending and
// done rooms, live; after each room a rating of the doctor, once.
// Guidance prompts (seed item 27): when the person is called, sent to a
// new room, or is next in a queue, the page says so in a banner that stays
// until tapped, vibrates, and (once allowed) raises a system notification,
// so a phone in a pocket, the page open in WeChat or a browser, tells them.
(function () {
  "use strict";
  var token = document.querySelector('meta[name="visit"]').content;
  var base = "/api/m/" + token;
  function $(id) { return document.getElementById(id); }
  function fill(id, items) {
    var u = $(id);
    u.textContent = "";
    items.forEach(function (t) { var e = document.createElement("li"); e.textContent = t; u.appendChild(e); });
    if (!items.length) { var e = document.createElement("li"); e.textContent = "—"; u.appendChild(e); }
  }
  function floor(f) { return f < 0 ? "负" + (-f) + "楼" : f + " 楼"; }
  var said = null; // the last prompt's key: each prompt once
  function prompt(key, text) {
    if (key === said) return;
    var first = said === null;
    said = key;
    // Not on opening the page: it shows the state already.
    if (first || !text) return;
    $("alert-text").textContent = text;
    $("alert").hidden = false;
    // Browsers allow vibration only after the person has touched the page.
    var touched = !navigator.userActivation || navigator.userActivation.hasBeenActive;
    if (navigator.vibrate && touched) navigator.vibrate([300, 150, 300]);
    if (window.Notification && Notification.permission === "granted") {
      try { new Notification("体检导检提示", { body: text, tag: "exam-guide" }); } catch (e) { /* Android needs a worker; the banner stays */ }
    }
  }
  $("alert-ok").addEventListener("click", function () { $("alert").hidden = true; });
  function notifyState() {
    if (!window.Notification) { $("notify-state").textContent = "本浏览器不支持通知，请留意本页提示"; return; }
    $("notify-on").hidden = Notification.permission !== "default";
    $("notify-state").textContent = Notification.permission === "granted" ? "已开启叫号提醒" :
      Notification.permission === "denied" ? "通知已被拒绝，请留意本页提示" : "";
  }
  $("notify-on").addEventListener("click", function () {
    Notification.requestPermission().then(notifyState);
  });
  notifyState();
  function draw(s) {
    var p = s.person;
    $("who").textContent = p.name + " · " + p.exam_no;
    var at = p.at || { at: "none" };
    var room = function (code) {
      var x = p.places.concat(p.pending).filter(function (r) { return r.room === code; })[0];
      return x ? floor(x.floor) + " " + x.room_name : code;
    };
    $("now").textContent = at.at === "called" ? "请到 " + room(at.room) + " 检查" :
      at.at === "waiting" ? "请在 " + room(at.room) + " 等候" :
      at.at === "done" ? "全部项目已完成，谢谢！" :
      at.at === "left" ? "已改期，今日无需排队" :
      at.at === "unrouted" ? "请到导诊台确认下一站" : "请到导诊台签到";
    // The prompt: called to a room, or next in line (first place, not
    // pre-queue), or waiting somewhere new.
    var next = p.places.filter(function (x) { return x.place === 0 && !x.prequeue; })[0];
    if (at.at === "called") prompt("called:" + at.room, "请到 " + room(at.room) + " 检查");
    else if (at.at === "waiting" && next && next.room === at.room) prompt("next:" + at.room, "下一位就是您，请到 " + room(at.room) + " 门口等候");
    else if (at.at === "waiting") prompt("waiting:" + at.room, "请到 " + room(at.room) + " 等候");
    else if (at.at === "done") prompt("done", "全部项目已完成，谢谢！");
    else prompt(at.at, "");
    fill("places", p.places.map(function (x) { return floor(x.floor) + " " + x.room_name + "：第 " + (x.place + 1) + " 位" + (x.prequeue ? "（预排号）" : ""); }));
    fill("pending", p.pending.map(function (r) { return floor(r.floor) + " " + r.room_name; }));
    fill("done", p.done.map(function (r) { return r.room_name; }));
    var sel = $("rate-room");
    sel.textContent = "";
    s.to_rate.forEach(function (code) {
      var d = p.done.filter(function (r) { return r.room === code; })[0];
      var o = document.createElement("option"); o.value = code; o.textContent = d ? d.room_name : code; sel.appendChild(o);
    });
    $("rate-box").hidden = !s.to_rate.length;
  }
  function refresh() { return fetch(base).then(function (r) { return r.json(); }).then(draw).catch(function () {}); }
  $("rate").addEventListener("submit", function (ev) {
    ev.preventDefault();
    fetch(base + "/rating", { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ room: $("rate-room").value, stars: Number($("rate-stars").value), remark: $("rate-remark").value }) })
      .then(function (r) { return r.json().then(function (j) { $("rate-msg").textContent = r.ok ? "谢谢您的评价" : j.message; }); })
      .then(refresh);
  });
  var es = new EventSource(base + "/stream");
  es.addEventListener("changed", refresh);
  refresh();
})();
