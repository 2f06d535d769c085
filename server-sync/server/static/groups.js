// Group desk: companies, groups with their rule and package, roster import
// with upload and save progress, automatic grouping, batch booking, batch
// items, bans.
(function () {
  "use strict";
  var D = Desk, el = D.el, $ = function (id) { return document.getElementById(id); };
  var company = null, groups = [];

  function loadCompanies() {
    return D.call("GET", "/api/group/companies").then(function (r) {
      var tb = $("companies"); tb.textContent = "";
      r.companies.forEach(function (c) {
        tb.appendChild(el("tr", { class: "pick", onclick: function () { openCompany(c); } },
          [el("td", { text: c.name }), el("td", { text: c.contact }), el("td", { class: "num", text: String(c.members) })]));
      });
      return r.companies;
    });
  }

  $("company-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    D.call("POST", "/api/group/companies", { name: $("company-name").value, contact: $("company-contact").value })
      .then(function (r) { return loadCompanies().then(function (cs) { openCompany(cs.filter(function (c) { return c.id === r.id; })[0]); }); })
      .catch(function (e) { alert(e.message); });
  });

  function openCompany(c) {
    company = c;
    $("company").hidden = false;
    $("company-title").textContent = c.name;
    // S5: the roster as CSV, within the user's export limits (audited).
    $("members-csv").href = "/api/group/companies/" + c.id + "/members.csv";
    $("import-result").textContent = "";
    loadGroups().then(loadMembers);
  }

  var sexes = { male: "男", female: "女" }, maritals = { married: "已婚", unmarried: "未婚", unknown: "未知" };
  function loadGroups() {
    return D.call("GET", "/api/group/companies/" + company.id + "/groups").then(function (r) {
      groups = r.groups;
      var tb = $("groups"); tb.textContent = "";
      var sel = $("bi-group"); sel.textContent = "";
      groups.forEach(function (g) {
        var s = g.spec, rule = [s.sex ? sexes[s.sex] : "", s.min_age != null ? s.min_age + "岁起" : "", s.max_age != null ? "至" + s.max_age + "岁" : "", s.marital ? maritals[s.marital] : ""].filter(Boolean).join(" ") || "不限";
        tb.appendChild(el("tr", {}, [el("td", { text: s.name }), el("td", { text: s.package_code }), el("td", { text: rule }),
          el("td", { text: s.discount_pct + "%" }), el("td", { text: s.pay_later ? "是" : "否" }), el("td", { class: "num", text: String(g.members) })]));
        sel.appendChild(el("option", { value: String(g.id), text: s.name }));
      });
    });
  }

  $("group-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var num = function (id) { var v = $(id).value; return v === "" ? null : Number(v); };
    D.call("POST", "/api/group/companies/" + company.id + "/groups", {
      name: $("g-name").value, package_code: $("g-package").value, sex: $("g-sex").value || null,
      min_age: num("g-min"), max_age: num("g-max"), marital: $("g-marital").value || null,
      discount_pct: Number($("g-discount").value), pay_later: $("g-paylater").checked
    }).then(function () { $("g-name").value = ""; return loadGroups(); }).catch(function (e) { alert(e.message); });
  });

  function loadMembers() {
    return D.call("GET", "/api/group/companies/" + company.id + "/members").then(function (r) {
      var tb = $("members"); tb.textContent = "";
      var names = {}; groups.forEach(function (g) { names[g.id] = g.spec.name; });
      r.members.forEach(function (m) {
        tb.appendChild(el("tr", { "data-id": String(m.id), class: m.banned ? "banned" : "" }, [
          el("td", {}, [el("input", { type: "checkbox", value: String(m.id), class: "member" })]),
          el("td", { text: m.name }), el("td", { text: sexes[m.sex] }), el("td", { class: "num", text: String(m.age) }),
          el("td", { text: m.id_number }), el("td", { text: maritals[m.marital] }), el("td", { text: m.department || "" }),
          el("td", { text: m.group_id ? names[m.group_id] || "" : "未分组" }), el("td", { class: "mono", text: m.exam_no || "" }),
          el("td", { text: m.banned ? "禁检" : (D.states[m.state] || "") })]));
      });
      $("member-count").textContent = r.members.length + " 人";
    });
  }
  $("all").addEventListener("change", function () {
    document.querySelectorAll("input.member").forEach(function (c) { c.checked = $("all").checked; });
  });
  function picked() {
    var ids = []; document.querySelectorAll("input.member:checked").forEach(function (c) { ids.push(Number(c.value)); }); return ids;
  }

  // Upload with XHR for its upload progress; the server's own progress
  // (rows saved) is polled meanwhile.
  $("import").addEventListener("click", function () {
    var f = $("roster-file").files[0];
    if (!f) { alert("请选择名单文件"); return; }
    var token = Math.random().toString(36).slice(2) + Date.now().toString(36);
    var url = "/api/group/companies/" + company.id + "/roster?file_name=" + encodeURIComponent(f.name) +
      "&partial=" + $("partial").checked + "&token=" + token;
    var bar = $("import-progress"), stage = $("import-stage");
    bar.hidden = false; bar.value = 0; stage.textContent = "上传中";
    var poll = setInterval(function () {
      D.call("GET", "/api/group/progress/" + token).then(function (p) {
        if (p.stage === "checking") stage.textContent = "校验中";
        if (p.stage === "saving" && p.total) { bar.value = 50 + 50 * p.done / p.total; stage.textContent = "保存中 " + p.done + "/" + p.total; }
      }).catch(function () {});
    }, 300);
    var x = new XMLHttpRequest();
    x.open("POST", url);
    x.setRequestHeader("x-csrf", D.csrf);
    x.setRequestHeader("content-type", "application/octet-stream");
    x.upload.onprogress = function (e) { if (e.lengthComputable) bar.value = 50 * e.loaded / e.total; };
    x.onload = function () {
      clearInterval(poll);
      var r = {}; try { r = JSON.parse(x.responseText); } catch (e) { r = { message: "HTTP " + x.status }; }
      var out = $("import-result"); out.textContent = "";
      if (x.status !== 200) { bar.hidden = true; stage.textContent = ""; D.say("import-result", r.message); return; }
      bar.value = 100;
      stage.textContent = r.imported ? "完成" : "未导入";
      var summary = "共 " + (r.rows + r.errors ? r.rows : 0) + " 行有效，" + r.errors + " 处错误，已导入 " + r.imported + " 人" +
        (r.grouped != null ? "，自动分组 " + r.grouped + " 人" : "") + (r.empty_rows ? "，跳过空行 " + r.empty_rows : "");
      out.appendChild(el("p", { id: "import-summary", class: r.refused ? "error" : "notice ok", text: (r.refused ? "名单有错误，未导入任何人（可勾选“仍导入正确的行”）。" : "") + summary }));
      if (r.errors) {
        out.appendChild(el("a", { id: "error-report", href: "/api/group/companies/" + company.id + "/imports/" + r.import_id + "/errors.csv", text: "下载错误报告" }));
        out.appendChild(el("table", { class: "grid small", id: "import-errors" }, [el("tbody", {}, r.error_list.map(function (e) {
          return el("tr", {}, [el("td", { text: "第 " + e.line + " 行" }), el("td", { text: e.field || "" }), el("td", { text: e.value }), el("td", { text: e.message })]);
        }))]));
      }
      loadCompanies(); loadGroups().then(loadMembers);
    };
    x.onerror = function () { clearInterval(poll); D.say("import-result", "上传失败，请检查网络后重试"); };
    x.send(f);
  });

  function report(r) {
    var text = Object.keys(r).filter(function (k) { return typeof r[k] !== "object"; }).map(function (k) { return k + "=" + r[k]; }).join("，");
    (r.skipped || []).forEach(function (s) { text += "；" + s.name + "：" + s.reason; });
    D.say("group-msg", text, true);
    return loadGroups().then(loadMembers);
  }
  var fail = function (e) { D.say("group-msg", e.message); };
  $("regroup").addEventListener("click", function () { D.call("POST", "/api/group/companies/" + company.id + "/regroup", {}).then(report).catch(fail); });
  $("ban").addEventListener("click", function () { D.call("POST", "/api/group/companies/" + company.id + "/ban", { member_ids: picked(), banned: true }).then(report).catch(fail); });
  $("restore").addEventListener("click", function () { D.call("POST", "/api/group/companies/" + company.id + "/ban", { member_ids: picked(), banned: false }).then(report).catch(fail); });
  $("book").addEventListener("click", function () {
    D.call("POST", "/api/group/companies/" + company.id + "/book", { date: $("book-date").value, campus: $("book-campus").value }).then(report).catch(fail);
  });
  $("batch-items").addEventListener("click", function () {
    var list = function (id) { return $(id).value.split(/[,，\s]+/).filter(Boolean); };
    D.call("POST", "/api/group/companies/" + company.id + "/items", { group_id: Number($("bi-group").value), add: list("bi-add"), remove: list("bi-remove") }).then(report).catch(fail);
  });
  $("batch-discount").addEventListener("click", function () {
    D.call("POST", "/api/group/companies/" + company.id + "/discount", { group_id: Number($("bi-group").value), discount_pct: Number($("bd-pct").value) }).then(report).catch(fail);
  });
  loadCompanies();
})();
