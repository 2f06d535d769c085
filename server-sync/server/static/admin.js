// Administration: accounts and roles, item prices, packages. (The audit
// trail is the auditor's page, /audit: not the administrator's.)
(function () {
  "use strict";
  var D = Desk, el = D.el, $ = function (id) { return document.getElementById(id); };
  var roles = { admin: "管理员", front_desk: "前台", desk_supervisor: "前台主管", group_desk: "团检", finance: "财务", auditor: "审计员", guide: "导诊", doctor: "医生" };

  // A campus code by the name the account select shows (no campus: every one).
  function campusName(c) {
    if (!c) return "全部院区";
    var o = Array.prototype.find.call($("acc-campus").options, function (x) { return x.value === c; });
    return o ? o.textContent : c;
  }

  function loadAccounts() {
    D.call("GET", "/api/admin/accounts").then(function (r) {
      var tb = $("accounts"); tb.textContent = "";
      r.accounts.forEach(function (a) {
        tb.appendChild(el("tr", {}, [el("td", { text: a.username }), el("td", { text: roles[a.role] || a.role }), el("td", { text: campusName(a.campus) }),
          el("td", { text: a.locked ? "已锁定" : (a.must_change ? "待改密" : "正常") }), el("td", { text: a.created_at.slice(0, 10) })]));
      });
    });
  }
  $("account-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    D.call("POST", "/api/admin/accounts", { username: $("acc-name").value.trim(), role: $("acc-role").value, campus: $("acc-campus").value || null })
      .then(function (r) { D.say("acc-msg", "已创建 " + r.username + "，一次性密码 " + r.one_time_password + "（只显示这一次，首次登录须修改）", true); loadAccounts(); })
      .catch(function (e) { D.say("acc-msg", e.message); });
  });

  var items = [];
  function renderPrices() {
    var f = $("price-filter").value.trim(), tb = $("prices"); tb.textContent = "";
    items.filter(function (i) { return !f || i.name.indexOf(f) >= 0 || i.code.indexOf(f) >= 0; }).slice(0, 60).forEach(function (i) {
      var input = el("input", { type: "number", min: "0", step: "0.01", value: (i.price_fen / 100).toFixed(2) });
      tb.appendChild(el("tr", {}, [el("td", { class: "mono", text: i.code }), el("td", { text: i.name }), el("td", {}, [input]),
        el("td", {}, [el("button", { type: "button", class: "small", text: "保存", onclick: function () {
          var fen = Math.round(Number(input.value) * 100);
          D.call("POST", "/api/admin/items/" + encodeURIComponent(i.code) + "/price", { price_fen: fen })
            .then(function () { i.price_fen = fen; input.className = "ok"; }).catch(function (e) { alert(e.message); });
        } })])]));
    });
  }
  $("price-filter").addEventListener("input", renderPrices);

  // Packages: pick one to edit, or type a new code. The server checks the
  // items against the dictionaries and says what is wrong.
  var sexes = { both: "通用", male: "男性", female: "女性" };
  function codes() { return $("pkg-items").value.split(/[\s,，]+/).filter(Boolean); }
  function showNames() {
    var byCode = {}; items.forEach(function (i) { byCode[i.code] = i.name; });
    $("pkg-names").textContent = codes().map(function (c) { return byCode[c] || ("？" + c); }).join("、");
  }
  function renderPackages(pkgs) {
    var tb = $("packages"); tb.textContent = "";
    pkgs.forEach(function (p) {
      tb.appendChild(el("tr", { class: "clickable", onclick: function () {
        $("pkg-code").value = p.code; $("pkg-name").value = p.name; $("pkg-sex").value = p.sex;
        $("pkg-type").value = p.exam_type; $("pkg-price").value = (p.price_fen / 100).toFixed(2);
        $("pkg-items").value = p.items.join(" "); showNames();
      } }, [el("td", { class: "mono", text: p.code }), el("td", { text: p.name }), el("td", { text: sexes[p.sex] || p.sex }),
        el("td", { text: String(p.items.length) }), el("td", { text: (p.price_fen / 100).toFixed(2) })]));
    });
  }
  function loadCatalogue() {
    return D.call("GET", "/api/desk/catalogue").then(function (c) {
      items = c.items; renderPrices(); renderPackages(c.packages);
      var sel = $("pkg-type"); if (!sel.options.length) c.exam_types.forEach(function (t) { sel.appendChild(el("option", { value: t.code, text: t.name })); });
    });
  }
  $("pkg-items").addEventListener("input", showNames);
  $("pkg-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var code = $("pkg-code").value.trim();
    D.call("POST", "/api/admin/packages/" + encodeURIComponent(code), {
      name: $("pkg-name").value, sex: $("pkg-sex").value, exam_type: $("pkg-type").value,
      price_fen: Math.round(Number($("pkg-price").value) * 100), items: codes()
    }).then(function (r) { D.say("pkg-msg", (r.created ? "已新建 " : "已保存 ") + r.code, true); loadCatalogue(); })
      .catch(function (e) { D.say("pkg-msg", e.message); });
  });
  // The queue's rules, rooms and screens (this campus).
  var qs = null;
  function loadQueue() {
    D.call("GET", "/api/queue/settings").then(function (s) {
      qs = s;
      $("q-skip").value = s.rules.skip_back; $("q-floor").value = s.rules.floor_minutes;
      $("q-fasting").checked = s.rules.fasting_first; $("q-pull").checked = s.rules.pull;
      var tb = $("q-rooms"); tb.textContent = "";
      s.rooms.forEach(function (r) {
        var num = function (v, max) { return el("input", { type: "number", min: "1", max: String(max), value: String(v), size: "3" }); };
        var desks = num(r.desks, 50), minutes = num(r.minutes, 240);
        var pre = el("input", { type: "checkbox" }); pre.checked = r.prequeue;
        desks.addEventListener("change", function () { r.desks = Number(desks.value); });
        minutes.addEventListener("change", function () { r.minutes = Number(minutes.value); });
        pre.addEventListener("change", function () { r.prequeue = pre.checked; });
        tb.appendChild(el("tr", { "data-room": r.code }, [el("td", { class: "mono", text: r.code }), el("td", {}, [desks]), el("td", {}, [minutes]), el("td", {}, [pre])]));
      });
      var l = s.screen;
      $("q-logo").value = l.logo; $("q-bg").value = l.background; $("q-fg").value = l.foreground; $("q-accent").value = l.accent;
      $("q-font").value = l.font_px; $("q-rows").value = l.rows; $("q-double").checked = l.double; $("q-scroll").checked = l.scroll;
    }).catch(function (e) { D.say("q-msg", e.message); });
  }
  $("q-save").addEventListener("click", function () {
    if (!qs) return;
    qs.rules.skip_back = Number($("q-skip").value); qs.rules.floor_minutes = Number($("q-floor").value);
    qs.rules.fasting_first = $("q-fasting").checked; qs.rules.pull = $("q-pull").checked;
    qs.screen = { logo: $("q-logo").value, background: $("q-bg").value, foreground: $("q-fg").value, accent: $("q-accent").value,
      font_px: Number($("q-font").value), rows: Number($("q-rows").value), double: $("q-double").checked, scroll: $("q-scroll").checked };
    D.call("POST", "/api/queue/settings", qs).then(function () { D.say("q-msg", "已保存，今日队列已按新规则重放", true); loadQueue(); })
      .catch(function (e) { D.say("q-msg", e.message); });
  });
  loadCatalogue();
  loadAccounts();
  loadQueue();
})();
