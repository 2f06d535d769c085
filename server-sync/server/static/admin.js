// Administration: accounts and roles, item prices, packages. (The audit
// trail is the auditor's page, /audit: not the administrator's.)
(function () {
  "use strict";
  var D = Desk, el = D.el, $ = function (id) { return document.getElementById(id); };
  var roles = { admin: "管理员", front_desk: "前台", desk_supervisor: "前台主管", group_desk: "团检", finance: "财务", auditor: "审计员", guide: "导诊", doctor: "医生" };

  function loadAccounts() {
    D.call("GET", "/api/admin/accounts").then(function (r) {
      var tb = $("accounts"); tb.textContent = "";
      r.accounts.forEach(function (a) {
        tb.appendChild(el("tr", {}, [el("td", { text: a.username }), el("td", { text: roles[a.role] || a.role }),
          el("td", { text: a.locked ? "已锁定" : (a.must_change ? "待改密" : "正常") }), el("td", { text: a.created_at.slice(0, 10) })]));
      });
    });
  }
  $("account-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    D.call("POST", "/api/admin/accounts", { username: $("acc-name").value.trim(), role: $("acc-role").value })
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
  loadCatalogue();
  loadAccounts();
})();
