// 重要异常结果: the open cases with their timers (oldest first, overdue in
// red), a case's value and history; review, notify, follow up; report by hand.
(function () {
  "use strict";
  var el = Desk.el, call = Desk.call;
  function $(id) { return document.getElementById(id); }
  var states = { raised: "待审核", reviewed: "待通知", notified: "待随访", closed: "已闭环", dismissed: "已排除" };
  var actions = { review: "审核", notify: "通知", follow_up: "随访" };
  var whom = { patient: "本人", family: "家属", doctor: "医生" }, channel = { phone: "电话", sms: "短信", in_person: "当面" };
  var kinds = { advice: "建议", referral: "转介", outcome: "结局" };
  var open = null, board = null;
  function time(t) { return t ? new Date(t).toLocaleString("zh-CN", { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" }) : ""; }
  function left(r) {
    if (!r.deadline) return "";
    var m = Math.round((new Date(r.deadline) - Date.now()) / 60000);
    var what = r.state === "notified" ? "随访" : "通知";
    return m >= 0 ? what + "剩 " + (m >= 120 ? Math.round(m / 60) + " 小时" : m + " 分") : what + "超时 " + (-m >= 120 ? Math.round(-m / 60) + " 小时" : -m + " 分");
  }
  function draw() {
    var s = board.stats;
    $("stats").textContent = "近 30 天：A类 " + s.raised_a + "，B类 " + s.raised_b + "；未闭环 " + s.open + "，已闭环 " + s.closed +
      "，排除 " + s.dismissed + "；通知超时 " + s.late + (s.median_minutes_to_notify == null ? "" : "；通知用时中位 " + s.median_minutes_to_notify + " 分");
    var tb = document.querySelector("#board tbody"); tb.textContent = "";
    board.rows.forEach(function (r) {
      tb.appendChild(el("tr", { "data-id": r.id, class: (r.overdue ? "late " : "") + "cat-" + r.category, onclick: function () { show(r.id); } }, [
        el("td", { text: r.category + "类" }), el("td", { text: r.exam_no }), el("td", { text: r.item_code }),
        el("td", { text: r.analyte_name }), el("td", { class: "state", text: states[r.state] }), el("td", { text: time(r.raised_at) }),
        el("td", { class: "timer", text: left(r) })]));
    });
  }
  function refresh() {
    return call("GET", "/api/abnormal" + ($("all").checked ? "?all=true" : "")).then(function (b) { board = b; draw(); }, function (e) { $("msg").textContent = e.message; });
  }
  function detail(a) {
    if (a.action === "review") return (a.confirmed ? "确认" : "排除") + (a.note ? "：" + a.note : "");
    if (a.action === "notify") return whom[a.whom] + " · " + channel[a.channel] + " · " + (a.reached ? "已联系到" : "未联系到") + (a.note ? "：" + a.note : "");
    return kinds[a.kind] + "：" + a.note;
  }
  function show(id) {
    open = id;
    return call("GET", "/api/abnormal/" + id).then(function (d) {
      var c = d.case;
      $("case-title").textContent = c.category + "类 · " + c.analyte_name + " · " + states[c.state];
      $("case-who").textContent = d.name + "　" + d.sex + "　" + d.age + "岁　体检号 " + c.exam_no + "　电话 " + d.mobile;
      $("case-value").textContent = d.value + (d.unit ? " " + d.unit : "") + "（" + d.rule_zh + "）";
      $("review").hidden = c.state !== "raised";
      $("notify").hidden = !(c.state === "reviewed" || c.state === "notified");
      $("follow").hidden = c.state !== "notified";
      var tb = document.querySelector("#steps tbody"); tb.textContent = "";
      d.steps.forEach(function (s) {
        tb.appendChild(el("tr", {}, [el("td", { text: time(s.at) }), el("td", { text: actions[s.action.action] }), el("td", { text: detail(s.action) }),
          el("td", { text: states[s.state_after] }), el("td", { text: s.by })]));
      });
      $("case").hidden = false;
    }, function (e) { $("msg").textContent = e.message; });
  }
  function step(body) {
    return call("POST", "/api/abnormal/" + open + "/steps", body).then(function (r) {
      $("msg").textContent = "已记录：" + states[r.state] + (r.sms_requested ? "（短信已排队发送）" : "");
      return refresh().then(function () { return show(open); });
    }, function (e) { $("msg").textContent = e.message; });
  }
  $("review-ok").addEventListener("click", function () { step({ action: "review", confirmed: true, note: $("review-note").value }); });
  $("review-no").addEventListener("click", function () { step({ action: "review", confirmed: false, note: $("review-note").value }); });
  $("notify").addEventListener("submit", function (ev) {
    ev.preventDefault();
    step({ action: "notify", whom: $("notify-whom").value, channel: $("notify-channel").value, reached: $("notify-reached").checked, note: $("notify-note").value });
  });
  $("follow").addEventListener("submit", function (ev) {
    ev.preventDefault();
    step({ action: "follow_up", kind: $("follow-kind").value, note: $("follow-note").value }).then(function () { $("follow-note").value = ""; });
  });
  $("report").addEventListener("submit", function (ev) {
    ev.preventDefault();
    call("POST", "/api/abnormal/report", { exam_no: $("r-exam").value, item_code: $("r-item").value, finding: $("r-finding").value, category: $("r-cat").value })
      .then(function (r) { $("r-msg").textContent = r.id ? "已上报" : "此项目已上报过同类异常"; refresh(); }, function (e) { $("r-msg").textContent = e.message; });
  });
  $("all").addEventListener("change", refresh);
  refresh();
  // The timers count down; new cases appear.
  setInterval(refresh, 15000);
})();
