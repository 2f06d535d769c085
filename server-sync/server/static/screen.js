// 检室显示屏: the room's name, who is called in now, the waiting list
// (single or double, scrolling), next-room notices for people leaving;
// each new call is announced with the service's Mandarin voice.
(function () {
  "use strict";
  var token = document.querySelector('meta[name="screen"]').content;
  var base = "/api/screen/" + token;
  var last = 0, audioOk = false, queue = [], playing = false, first = true, scrollAt = 0;
  function $(id) { return document.getElementById(id); }
  function li(text) { var e = document.createElement("li"); e.textContent = text; return e; }
  function play() {
    if (playing || !queue.length) return;
    var a = queue.shift();
    if (!audioOk) { play(); return; }
    playing = true;
    var au = new Audio(base + "/voice/" + a.seq + ".wav");
    document.body.setAttribute("data-voice", a.seq);
    au.onloadeddata = function () { document.body.setAttribute("data-voice-loaded", a.seq); };
    au.onended = au.onerror = function () { playing = false; play(); };
    au.play().catch(function () { playing = false; play(); });
  }
  function look(l) {
    document.body.style.background = l.background;
    document.body.style.color = l.foreground;
    document.body.style.fontSize = l.font_px + "px";
    document.documentElement.style.setProperty("--accent", l.accent);
    $("logo").textContent = l.logo;
    $("waiting2").hidden = !l.double;
    $("notices").hidden = l.double;
  }
  function draw(s) {
    look(s.look);
    $("room-name").textContent = s.room_name;
    $("floor").textContent = s.floor_label;
    $("now-name").textContent = s.serving.length ? s.serving.map(function (p) { return p.name; }).join("、") : "—";
    $("count").textContent = s.waiting_count + " 人";
    var rows = s.look.rows, list = s.waiting;
    if (s.look.scroll && list.length > rows * (s.look.double ? 2 : 1)) {
      scrollAt = (scrollAt + rows) % list.length;
      list = list.slice(scrollAt).concat(list.slice(0, scrollAt));
    }
    var w = $("waiting"), w2 = $("waiting2");
    w.textContent = ""; w2.textContent = "";
    list.slice(0, rows).forEach(function (p) { w.appendChild(li(p.name)); });
    if (s.look.double) list.slice(rows, rows * 2).forEach(function (p) { w2.appendChild(li(p.name)); });
    s.announcements.forEach(function (a) {
      if (a.seq <= last) return;
      last = a.seq;
      if (!a.call) {
        var n = $("notices");
        n.insertBefore(li(a.text), n.firstChild);
        while (n.children.length > 6) n.removeChild(n.lastChild);
      }
      // A screen that opens does not replay the morning's calls.
      if (!first) queue.push(a);
    });
    first = false;
    play();
  }
  function refresh() {
    return fetch(base + "?after=" + last).then(function (r) { return r.json(); }).then(draw).catch(function () {});
  }
  document.body.addEventListener("click", function () {
    audioOk = true;
    $("sound").hidden = true;
  });
  setInterval(function () { $("clock").textContent = new Date().toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit" }); }, 1000);
  var es = new EventSource(base + "/stream");
  es.addEventListener("changed", refresh);
  setInterval(refresh, 15000);
  refresh();
})();
