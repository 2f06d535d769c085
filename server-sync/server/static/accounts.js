// Account administration: query, bulk state changes, validity and hours,
// unlock, resets, and the reports (seed 002 §(九) 1.17-1.19).
(function () {
  "use strict";
  var D = Desk, el = D.el, $ = function (id) { return document.getElementById(id); };
  var roles = { admin: "管理员", front_desk: "前台", desk_supervisor: "前台主管", group_desk: "团检", finance: "财务", auditor: "审计员", guide: "导诊", doctor: "医生" };
  var states = { active: "正常", disabled: "已停用", closed: "已注销" };
  function day(t) { return t ? t.replace("T", " ").slice(0, 16) : "—"; }
  function stateOf(a) { return a.expired ? "已过期" : (states[a.state] || a.state) + (a.failed_logins ? "（失败 " + a.failed_logins + "）" : ""); }

  function query() {
    var q = [], add = function (k, id) { var v = $(id).value.trim(); if (v) q.push(k + "=" + encodeURIComponent(v)); };
    add("name", "q-name"); add("state", "q-state"); add("created_from", "q-created-from"); add("created_to", "q-created-to");
    add("min_logins", "q-min-logins"); add("max_logins", "q-max-logins"); add("last_login_from", "q-last-from");
    add("last_login_to", "q-last-to"); add("changed_from", "q-changed-from"); add("changed_to", "q-changed-to");
    return q.join("&");
  }
  function act(path, label) {
    return el("button", { type: "button", class: "small", text: label, onclick: function () {
      D.call("POST", path, {}).then(function (r) {
        D.say("acc-msg", r.one_time_password ? "已重置 " + r.username + "，一次性密码 " + r.one_time_password + "（只显示这一次）" : "已完成：" + r.username, true);
        load();
      }).catch(function (e) { D.say("acc-msg", e.message); });
    } });
  }
  // A campus code by the name the campus select shows (no campus: every one).
  function campusName(c) {
    if (!c) return "全部院区";
    var o = Array.prototype.find.call($("c-campus").options, function (x) { return x.value === c; });
    return o ? o.textContent : c;
  }
  function load() {
    D.call("GET", "/api/admin/accounts/search?" + query()).then(function (r) {
      var tb = $("acc-rows"); tb.textContent = "";
      r.accounts.forEach(function (a) {
        var base = "/api/admin/accounts/" + encodeURIComponent(a.username);
        tb.appendChild(el("tr", {}, [
          el("td", {}, [el("input", { type: "checkbox", class: "acc-pick", value: a.username })]),
          el("td", { text: a.username }), el("td", { text: roles[a.role] || a.role }), el("td", { class: "acc-campus", text: campusName(a.campus) }), el("td", { text: stateOf(a) }),
          el("td", { text: day(a.created_at) }), el("td", { text: String(a.login_count) }), el("td", { text: day(a.last_login_at) }),
          el("td", { text: day(a.updated_at) }), el("td", { text: day(a.valid_until) }), el("td", { text: a.access_hours || "不限" }),
          el("td", { text: a.totp ? "已启用" : "未启用" }),
          el("td", {}, [act(base + "/unlock", "解冻"), act(base + "/reset-password", "重置密码"), a.totp ? act(base + "/reset-totp", "重置双因子") : null])
        ]));
      });
    }).catch(function (e) { D.say("acc-msg", e.message); });
  }
  function bulk(state) {
    var names = Array.prototype.map.call(document.querySelectorAll(".acc-pick:checked"), function (c) { return c.value; });
    if (!names.length) { D.say("acc-msg", "请先勾选账号"); return; }
    D.call("POST", "/api/admin/accounts/state", { usernames: names, state: state }).then(function (r) {
      D.say("acc-msg", r.map(function (x) { return x.username + "：" + (x.changed ? "已完成" : x.note); }).join("；"), true);
      load();
    }).catch(function (e) { D.say("acc-msg", e.message); });
  }
  $("acc-query").addEventListener("submit", function (ev) { ev.preventDefault(); load(); });
  $("acc-all").addEventListener("change", function () {
    Array.prototype.forEach.call(document.querySelectorAll(".acc-pick"), function (c) { c.checked = $("acc-all").checked; });
  });
  $("bulk-disable").addEventListener("click", function () { bulk("disabled"); });
  $("bulk-enable").addEventListener("click", function () { bulk("active"); });
  $("bulk-close").addEventListener("click", function () { if (confirm("注销后账号不能再启用，确定？")) bulk("closed"); });
  $("campus-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var name = $("c-name").value.trim();
    D.call("POST", "/api/admin/accounts/" + encodeURIComponent(name) + "/campus", { campus: $("c-campus").value || null })
      .then(function () { D.say("acc-msg", "已保存 " + name + " 的院区：" + campusName($("c-campus").value), true); load(); })
      .catch(function (e) { D.say("acc-msg", e.message); });
  });
  $("limits-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var name = $("l-name").value.trim();
    D.call("POST", "/api/admin/accounts/" + encodeURIComponent(name) + "/limits",
      { valid_until: $("l-until").value || null, access_hours: $("l-hours").value.trim() || null })
      .then(function () { D.say("acc-msg", "已保存 " + name, true); load(); })
      .catch(function (e) { D.say("acc-msg", e.message); });
  });

  function table(head, rows) {
    var th = $("report-head"), tb = $("report-rows"); th.textContent = ""; tb.textContent = "";
    th.appendChild(el("tr", {}, head.map(function (h) { return el("th", { text: h }); })));
    rows.forEach(function (r) { tb.appendChild(el("tr", {}, r.map(function (c) { return el("td", { text: c }); }))); });
  }
  $("report-stopped").addEventListener("click", function () {
    D.call("GET", "/api/admin/accounts/report/stopped").then(function (r) {
      table(["用户名", "角色", "状态", "停用时间", "操作人", "有效期至"], r.accounts.map(function (a) {
        return [a.username, roles[a.role] || a.role, stateOf(a), day(a.state_changed_at), a.state_changed_by || "—", day(a.valid_until)];
      }));
    }).catch(function (e) { D.say("acc-msg", e.message); });
  });
  $("report-rights").addEventListener("click", function () {
    D.call("GET", "/api/admin/accounts/report/rights").then(function (r) {
      table(["用户名", "角色", "状态"].concat(r.capabilities), r.accounts.map(function (a) {
        return [a.username, roles[a.role] || a.role, a.expired ? "已过期" : states[a.state]].concat(r.capabilities.map(function (c) { return a.capabilities.indexOf(c) >= 0 ? "✓" : ""; }));
      }));
    }).catch(function (e) { D.say("acc-msg", e.message); });
  });
  $("report-logins").addEventListener("click", function () {
    D.call("GET", "/api/admin/logins").then(function (r) {
      table(["用户名", "来源", "登录", "退出", "原因", "时长（分钟）"], r.logins.map(function (l) {
        return [l.username, l.source, day(l.started_at), day(l.ended_at), l.end_reason || "在线", (l.seconds / 60).toFixed(1)];
      }));
    }).catch(function (e) { D.say("acc-msg", e.message); });
  });
  load();
})();
