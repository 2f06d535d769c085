// 检验采集: a visit's tubes by scan; draw (with notes), send, receive,
// reject with the reason, draw again; the tubes that need someone.
(function () {
  "use strict";
  var el = Desk.el, call = Desk.call;
  function $(id) { return document.getElementById(id); }
  var names = { draw: "采集", skip: "未采集", send: "送检", receive: "接收", reject: "不合格", result: "出结果", redraw: "重采" };
  var reasons = { haemolysed: "溶血", clotted: "凝块", insufficient: "标本量不足", wrong_tube: "容器错误", label_mismatch: "标签与标本不符", too_late: "送检超时" };
  var states = { pending: "待采集", drawn: "已采集", sent: "已送检", received: "检验科已接收", resulted: "已出结果", rejected: "不合格，待重采", not_drawn: "未采集" };
  var noteNames = { fainted: "晕针", difficult: "采血困难", not_fasting: "非空腹", medication: "服药后" };
  var current = null;
  function notes() {
    return Array.prototype.slice.call(document.querySelectorAll("input[name=note]:checked")).map(function (c) { return c.value; });
  }
  function act(barcode, body) {
    return call("POST", "/api/specimens/" + encodeURIComponent(barcode) + "/events", body).then(function (r) {
      $("msg").textContent = barcode + "：" + r.state_zh;
      return load(current).then(problems);
    }, function (e) { $("msg").textContent = e.message; });
  }
  function button(text, barcode, body, cls) {
    return el("button", { type: "button", class: "small " + (cls || ""), "data-op": body.event, text: text, onclick: function () { act(barcode, typeof body.notes === "function" ? { event: body.event, notes: body.notes() } : body); } });
  }
  function ops(t) {
    var b = t.barcode;
    switch (t.state) {
      case "pending": return [button("采集", b, { event: "draw", notes: notes }, "primary"), button("未采集", b, { event: "skip", reason: "受检者拒绝" })];
      case "drawn": return [button("送检", b, { event: "send" }, "primary"), button("接收", b, { event: "receive" })];
      case "sent": return [button("接收", b, { event: "receive" }, "primary")];
      case "received": return [button("出结果", b, { event: "result" })];
      case "rejected": return [button("重采", b, { event: "redraw", notes: notes }, "primary")];
      default: return [];
    }
  }
  function reject(t) {
    if (["drawn", "sent", "received"].indexOf(t.state) < 0) return null;
    var sel = el("select", {}, Object.keys(reasons).map(function (k) { return el("option", { value: k, text: reasons[k] }); }));
    return el("span", {}, [sel, button("不合格", t.barcode, { event: "reject", get reason() { return sel.value; } })]);
  }
  function detail(e) {
    var x = e.event;
    if (x.notes && x.notes.length) return names[x.event] + "（" + x.notes.map(function (n) { return noteNames[n]; }).join("、") + "）";
    if (x.event === "reject") return "不合格：" + reasons[x.reason];
    if (x.event === "skip") return "未采集：" + x.reason;
    return names[x.event];
  }
  function draw(v) {
    $("who").textContent = v.name + "　" + v.sex + "　" + v.age + "岁　体检号 " + v.exam_no;
    var tb = document.querySelector("#tubes tbody"); tb.textContent = "";
    v.tubes.forEach(function (t) {
      tb.appendChild(el("tr", { "data-barcode": t.barcode, class: t.state }, [el("td", { class: "mono", text: t.barcode }), el("td", { text: t.sample_name }),
        el("td", { class: "small", text: t.items.join("、") }), el("td", { class: "state", text: states[t.state] }), el("td", { text: String(t.draws) }),
        el("td", {}, ops(t).concat([reject(t)]))]));
    });
    var eb = document.querySelector("#events tbody"); eb.textContent = "";
    v.events.forEach(function (e) {
      eb.appendChild(el("tr", {}, [el("td", { text: new Date(e.at).toLocaleTimeString("zh-CN") }), el("td", { class: "mono", text: e.barcode }),
        el("td", { text: detail(e) }), el("td", { text: states[e.state_after] }), el("td", { text: e.by })]));
    });
    $("visit").hidden = false;
  }
  function load(q) {
    current = q;
    return call("GET", "/api/specimens/find?q=" + encodeURIComponent(q)).then(draw, function (e) { $("msg").textContent = e.message; $("visit").hidden = true; });
  }
  function problems() {
    return call("GET", "/api/specimens/problems").then(function (list) {
      var u = $("problems"); u.textContent = "";
      list.forEach(function (p) {
        u.appendChild(el("li", { class: "warn" }, [el("a", { href: "#", text: p.barcode, onclick: function (ev) { ev.preventDefault(); load(p.barcode); } }),
          p.problem === "missing" ? "：已采集 " + p.minutes + " 分钟，检验科未接收" : "：不合格，待重采"]));
      });
      if (!list.length) u.appendChild(el("li", { class: "quiet", text: "无" }));
    });
  }
  $("find").addEventListener("submit", function (ev) { ev.preventDefault(); $("msg").textContent = ""; load($("scan").value.trim()).then(function () { $("scan").select(); }); });
  problems();
  setInterval(problems, 30000);
})();
