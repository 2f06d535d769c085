// Front desk: search, walk-in registration and booking with a plan preview
// (items cut to the person, conflicts refused), and a visit's detail with
// its item changes, signature for a waiver, payment, documents and the
// published exam report.
(function () {
  "use strict";
  var D = Desk, el = D.el, $ = function (id) { return document.getElementById(id); };
  var catalogue = null, current = null;

  D.call("GET", "/api/desk/catalogue").then(function (c) { catalogue = c; renderItems(); });

  function renderItems() {
    var f = $("item-filter").value.trim();
    var box = $("items");
    var keep = {};
    box.querySelectorAll("input:checked").forEach(function (i) { keep[i.value] = true; });
    box.textContent = "";
    catalogue.items.forEach(function (it) {
      if (f && it.name.indexOf(f) < 0 && it.code.toLowerCase().indexOf(f.toLowerCase()) < 0 && !keep[it.code]) return;
      var cb = el("input", { type: "checkbox", value: it.code });
      cb.checked = !!keep[it.code];
      box.appendChild(el("label", {}, [cb, it.name + " " + D.yuan(it.price_fen)]));
    });
  }
  $("item-filter").addEventListener("input", function () { if (catalogue) renderItems(); });

  function loadSlots() {
    var date = $("date").value, campus = $("campus").value;
    if (!date) return;
    D.call("GET", "/api/desk/slots?campus=" + encodeURIComponent(campus) + "&date=" + date).then(function (r) {
      var s = $("slot"); s.textContent = "";
      r.slots.forEach(function (x) {
        var left = x.capacity - x.booked;
        var o = el("option", { value: x.start, text: x.start.slice(0, 5) + "–" + x.end.slice(0, 5) + "（余 " + left + "）" });
        if (left <= 0) o.disabled = true;
        s.appendChild(o);
      });
    }).catch(function (e) { D.say("msg", e.message); });
  }
  $("date").addEventListener("change", loadSlots);
  $("campus").addEventListener("change", loadSlots);
  loadSlots();

  function form() {
    var add = [];
    $("items").querySelectorAll("input:checked").forEach(function (i) { add.push(i.value); });
    var flags = ["vip", "complaint", "proxy"].filter(function (f) { return $("flag-" + f).checked; });
    var walkIn = $("mode-walkin").checked;
    var body = {
      person: { id_number: $("id_number").value.trim(), name: $("name").value.trim(), mobile: $("mobile").value.trim() },
      marital: $("marital").value, campus: $("campus").value, add: add, flags: flags,
      walk_in: walkIn, copy_last: $("copy-last").checked
    };
    if ($("package").value) body.package = $("package").value;
    if (!walkIn) { body.date = $("date").value; body.slot_start = $("slot").value; }
    return body;
  }

  function showPlan(p) {
    var box = $("plan"); box.textContent = "";
    var rows = p.items.map(function (i) {
      return el("tr", {}, [el("td", { text: i.name }), el("td", { class: "num", text: D.yuan(i.price_fen) }), el("td", { text: i.from_package ? "套餐内" : "加项" })]);
    });
    box.appendChild(el("table", { class: "grid small", id: "plan-items" }, [el("tbody", {}, rows)]));
    p.excluded.forEach(function (x) {
      box.appendChild(el("p", { class: "notice excluded", text: "未含 " + x.name + "：" + x.reason + (x.replaced_by ? "（已改为对应项目）" : "") }));
    });
    box.appendChild(el("p", { id: "plan-total", text: "合计 " + D.yuan(p.total_fen) }));
  }

  $("preview").addEventListener("click", function () {
    var f = form();
    D.call("POST", "/api/desk/plan", { id_number: f.person.id_number, marital: f.marital, package: f.package, add: f.add })
      .then(function (p) { showPlan(p); D.say("msg", "已按性别与婚否核对项目", true); })
      .catch(function (e) { $("plan").textContent = ""; D.say("msg", e.message); });
  });

  $("visit-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    D.call("POST", "/api/desk/visits", form()).then(function (r) {
      showPlan(r.plan);
      D.say("msg", "登记成功，体检号 " + r.visit.exam_no + "，应收 " + D.yuan(r.visit.total_fen) +
        (r.visit.identity_kept ? "。此人已有登记，姓名 / 手机号仍按原登记；如有误请在详情中“更正身份信息”" : ""), true);
      $("msg").dataset.examNo = r.visit.exam_no;
      loadSlots();
      open(r.visit.id);
    }).catch(function (e) { D.say("msg", e.message); });
  });

  $("search-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    // The front desk searches every patient; the group desk only group members.
    var url = document.querySelector('meta[name="search"]').content;
    D.call("GET", url + "?q=" + encodeURIComponent($("q").value)).then(function (r) {
      var tb = $("hits"); tb.textContent = "";
      r.hits.forEach(function (h) {
        tb.appendChild(el("tr", { class: "pick", onclick: function () { open(h.id); } }, [
          el("td", { text: h.exam_no }), el("td", { text: h.name }), el("td", { text: D.sexes[h.sex] || "" }),
          el("td", { text: h.id_number }), el("td", { text: h.date + " " + h.slot }), el("td", { text: h.package }),
          el("td", { text: D.states[h.state] || h.state })]));
      });
      if (!r.hits.length) tb.appendChild(el("tr", {}, [el("td", { colspan: "7", class: "quiet", text: "没有找到" })]));
    }).catch(function (e) { D.say("msg", e.message); });
  });

  function act(url, body) {
    return D.call("POST", url, body).then(function (v) { render(v); return v; }).catch(function (e) { alert(e.message); });
  }

  function itemButtons(v, it) {
    var base = "/api/desk/visits/" + v.id + "/items/" + encodeURIComponent(it.code);
    var b = function (label, change) {
      return el("button", { type: "button", class: "small", "data-change": change, onclick: function () {
        if (change === "waive") return sign(v, it);
        act(base, { change: change });
      } , text: label });
    };
    if (it.status === "active") {
      return [it.paid ? b("退项", "refund") : b("删除", "remove"), b("弃检", "waive"), b("补检", "make_up"), b("延检", "deferred")];
    }
    if (it.status === "make_up" || it.status === "deferred") return [b("恢复", "restore")];
    if (it.signed) return [el("a", { href: base + "/signature", target: "_blank", text: "签名" })];
    return [];
  }

  function render(v) {
    current = v;
    var box = $("detail"); box.textContent = "";
    var p = v.person;
    box.appendChild(el("h1", { id: "detail-title", text: p.name + " · " + (D.sexes[p.sex] || "") + " · 体检号 " + v.exam_no }));
    box.appendChild(el("p", { text: p.id_number + " · " + p.mobile + " · " + v.date + " " + v.slot_start + "–" + v.slot_end + " · " + v.package }));
    box.appendChild(el("p", {}, [el("span", { id: "detail-state", class: "badge " + (v.state === "cancelled" ? "bad" : "ok"), text: D.states[v.state] || v.state }),
      " 应收 " + D.yuan(v.amount_due_fen) + (v.flags.length ? " · 标记 " + v.flags.join(", ") : "") + (v.summary_blocked ? " · 有补检项目，总检暂缓" : "") + (v.state_reason ? " · 原因 " + v.state_reason : "")]));
    var actions = el("div", { class: "row" });
    if (v.state === "booked") {
      actions.appendChild(el("button", { type: "button", id: "register", text: "到检登记", onclick: function () { act("/api/desk/visits/" + v.id + "/register", { flags: v.flags }); } }));
      actions.appendChild(el("button", { type: "button", class: "secondary", text: "取消预约", onclick: function () {
        var r = prompt("取消原因"); if (r) act("/api/desk/visits/" + v.id + "/cancel", { reason: r }); } }));
      actions.appendChild(el("button", { type: "button", class: "secondary", text: "改约到所选日期时段", onclick: function () {
        var r = prompt("改约原因"); if (r) act("/api/desk/visits/" + v.id + "/rebook", { date: $("date").value, slot_start: $("slot").value, reason: r }); } }));
    }
    actions.appendChild(el("a", { href: "/desk/visits/" + v.id + "/print", target: "_blank", id: "print", text: "打印单据" }));
    // PIPL: the person's rights (see, export, consents, erase), for the person present.
    if (document.querySelector('meta[name="rights"]').content === "true")
      actions.appendChild(el("a", { href: "/desk/visits/" + v.id + "/privacy", target: "_blank", id: "privacy", text: "个人信息（查询 / 导出 / 授权 / 删除）" }));
    // The kiosk photo is fetched only when asked for: each view is audited.
    actions.appendChild(el("button", { type: "button", class: "secondary", id: "photo", text: "自助机照片", onclick: function () {
      var img = el("img", { id: "photo-img", alt: "自助机照片", src: "/api/desk/visits/" + v.id + "/photo" });
      img.onerror = function () { img.remove(); D.say("msg", "没有自助机照片（未同意、跳过拍照或未在自助机签到）"); };
      box.insertBefore(img, actions.nextSibling);
    } }));
    if (v.amount_due_fen > 0) {
      actions.appendChild(el("button", { type: "button", id: "pay", text: "收费（现金）", onclick: function () {
        act("/api/desk/visits/" + v.id + "/pay", { method: "cash" }).then(function (r) {
          // E15: a charge taken in emergency mode has its emergency receipt number.
          if (r && r.emergency && r.emergency.receipt_no) D.say("msg", "应急收据号 " + r.emergency.receipt_no + "（已收 " + D.yuan(r.paid_fen) + "）");
        });
      } }));
      actions.appendChild(el("button", { type: "button", id: "pay-platform", class: "secondary", text: "扫码支付（统一支付平台）", onclick: function () { platformPay(v); } }));
    }
    box.appendChild(actions);
    box.appendChild(el("div", { id: "platform-pay" }));
    box.appendChild(identityForm(v));
    box.appendChild(el("h2", { text: "项目" }));
    var rows = v.items.map(function (it) {
      return el("tr", { "data-code": it.code }, [el("td", { text: it.name }), el("td", { class: "num", text: D.yuan(it.price_fen) }),
        el("td", { text: it.paid ? "已缴" : "未缴" }), el("td", { class: "status", text: it.status_zh }), el("td", {}, itemButtons(v, it))]);
    });
    box.appendChild(el("table", { class: "grid small", id: "detail-items" }, [el("tbody", {}, rows)]));
    v.excluded.forEach(function (x) { box.appendChild(el("p", { class: "notice", text: "未含 " + x.name + "：" + x.reason })); });
    var addRow = el("form", { class: "row" }, [el("input", { id: "add-code", placeholder: "加项：项目编码" }), el("button", { type: "submit", text: "加项" })]);
    addRow.addEventListener("submit", function (ev) { ev.preventDefault(); act("/api/desk/visits/" + v.id + "/items", { add: [$("add-code").value.trim()] }); });
    box.appendChild(addRow);
    box.appendChild(el("h2", { text: "指引单" }));
    v.documents.guide.stations.forEach(function (s) {
      box.appendChild(el("p", { text: (s.fasting ? "【空腹】" : "") + s.floor + "楼 " + s.room_name + "：" + s.items.join("、") }));
    });
    box.appendChild(el("h2", { text: "条码" }));
    v.documents.labels.forEach(function (l) { box.appendChild(el("p", { class: "mono", text: l.barcode + " " + l.sample_name + "：" + l.items.join("、") })); });
    box.appendChild(el("h2", { text: "体检报告" }));
    box.appendChild(reportSection(v));
    if (v.history && v.history.length) {
      box.appendChild(el("h2", { text: "既往体检" }));
      v.history.forEach(function (h) {
        box.appendChild(el("p", {}, [el("a", { href: "#", onclick: function (e) { e.preventDefault(); open(h.id); }, text: h.date + " " + h.package + " " + h.exam_no + " " + (D.states[h.state] || h.state) })]));
      });
    }
  }

  // The visit's published report (E9): the live one with its kiosk prints,
  // or none; publish a PDF (replaces the live one), preview it (each view is
  // audited), withdraw it with a reason. The group desk sees no reports.
  var MAX_REPORT_BYTES = 20 * 1024 * 1024;
  function when(s) { return new Date(s).toLocaleString("zh-CN", { hour12: false }); }
  function reportSection(v) {
    var box = el("div", { id: "report" }, [el("p", { class: "quiet", text: "正在读取报告…" })]);
    var base = "/api/desk/visits/" + v.id + "/report";
    function show(r) {
      box.textContent = "";
      if (!r) box.appendChild(el("p", { id: "report-state", class: "quiet", text: "未发布" }));
      else {
        box.appendChild(el("p", { id: "report-state" }, [el("strong", { text: r.title }),
          " · " + (r.pages ? r.pages + " 页" : "页数未知") + " · " + when(r.published_at) + " 由 " + r.published_by + " 发布"]));
        box.appendChild(el("p", { id: "report-prints", class: r.prints.length ? "" : "quiet",
          text: r.prints.length ? "自助机已打印 " + r.prints.length + " 次" : "尚未在自助机打印" }));
        if (r.prints.length) box.appendChild(el("table", { class: "grid small", id: "report-print-list" }, [el("tbody", {}, r.prints.map(function (p) {
          return el("tr", {}, [el("td", { text: when(p.at) }), el("td", { text: p.kiosk }), el("td", { class: "mono", text: "作业 " + p.job })]);
        }))]));
      }
      var file = el("input", { type: "file", id: "report-file", accept: "application/pdf,.pdf" });
      var title = el("input", { id: "report-title", maxlength: "60", autocomplete: "off", placeholder: "默认：套餐名 体检报告" });
      var publish = el("button", { type: "button", id: "report-publish", text: "发布报告" });
      publish.addEventListener("click", function () {
        var f = file.files[0];
        if (!f) { alert("请选择报告 PDF 文件"); return; }
        if (f.size > MAX_REPORT_BYTES) { alert("报告文件过大（上限 20 MB）"); return; }
        if (r && !confirm("已有发布的报告，发布新版本将撤回旧版本。继续？")) return;
        var t = title.value.trim();
        publish.disabled = true;
        // The PDF itself is the body (not JSON), so not through Desk.call.
        fetch(base + (t ? "?title=" + encodeURIComponent(t) : ""), {
          method: "PUT", credentials: "same-origin", body: f,
          headers: { "x-csrf": D.csrf, "content-type": "application/pdf" }
        }).then(function (res) {
          return res.json().catch(function () { return {}; }).then(function (j) {
            if (!res.ok) throw new Error(j.message || ("HTTP " + res.status));
            return j;
          });
        }).then(function (j) {
          show(j);
          D.say("msg", "体检报告已发布（" + (j.pages ? j.pages + " 页" : "页数未知") + "）", true);
        }).catch(function (e) { publish.disabled = false; alert(e.message); });
      });
      var actions = el("div", { class: "row" }, [el("label", {}, ["报告 PDF", file]), el("label", {}, ["标题（可不填）", title]), publish]);
      if (r) {
        actions.appendChild(el("a", { href: base + "/pdf", target: "_blank", rel: "noopener", id: "report-preview", text: "预览" }));
        actions.appendChild(el("button", { type: "button", class: "secondary", id: "report-withdraw", text: "撤回", onclick: function () {
          var reason = prompt("撤回原因（自助机将不再提供此报告）");
          if (!reason || !reason.trim()) return;
          D.call("DELETE", base + "?reason=" + encodeURIComponent(reason.trim()))
            .then(function () { show(null); D.say("msg", "体检报告已撤回", true); })
            .catch(function (e) { alert(e.message); });
        } }));
      }
      box.appendChild(actions);
      if (r) box.appendChild(handover(v, base));
    }
    D.call("GET", base).then(show).catch(function (e) {
      if (e.code === "not_found") return show(null);
      box.textContent = "";
      if (e.code === "not_allowed") box.appendChild(el("p", { class: "quiet", text: e.message }));
      else D.say("msg", e.message);
    });
    return box;
  }

  // Correcting the person's name or mobile (issue 17 item 6): the one way
  // they change, with a reason; the log keeps masked values only.
  function maskName(n) { var c = Array.from(n || ""); return c.length < 2 ? "*" : c.length === 2 ? c[0] + "*" : c[0] + "*".repeat(c.length - 2) + c[c.length - 1]; }
  function identityForm(v) {
    var p = v.person;
    var field = el("select", { id: "fix-field" }, [el("option", { value: "name", text: "姓名" }), el("option", { value: "mobile", text: "手机号" })]);
    var old = el("span", { id: "fix-old", class: "mono" });
    function showOld() { old.textContent = field.value === "name" ? maskName(p.name) : (p.mobile || "（空）"); }
    field.addEventListener("change", showOld); showOld();
    var value = el("input", { id: "fix-value", maxlength: "30", autocomplete: "off", placeholder: "新值" });
    var reason = el("input", { id: "fix-reason", maxlength: "200", autocomplete: "off", placeholder: "更正原因（必填）" });
    var form = el("form", { id: "identity-form", class: "row" }, [el("label", {}, ["更正", field]), el("label", {}, ["原值 ", old]),
      el("label", {}, ["新值", value]), el("label", {}, ["原因", reason]), el("button", { type: "submit", class: "secondary", text: "更正身份信息" })]);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (!reason.value.trim()) { alert("请填写更正原因"); return; }
      D.call("POST", "/api/desk/visits/" + v.id + "/identity", { field: field.value, value: value.value, reason: reason.value })
        .then(function (c) { D.say("msg", "已更正" + (c.field === "name" ? "姓名" : "手机号") + "：" + c.old_masked + " → " + c.new_masked, true); open(v.id); })
        .catch(function (e) { alert(e.message); });
    });
    return el("details", { id: "identity" }, [el("summary", { text: "更正身份信息（姓名 / 手机号）" }), form]);
  }

  // Payment through the hospital's platform: the order of the visit's
  // unpaid items (the amount is the service's), its QR code on this screen
  // for the patient's phone, polled until the platform says paid; closing
  // it closes the order at the platform. Unavailable: said; take cash.
  var payTimer = null;
  function platformPay(v) {
    var box = $("platform-pay");
    clearTimeout(payTimer);
    D.call("POST", "/api/desk/visits/" + v.id + "/platform-order").then(function (o) {
      box.textContent = "";
      var stateLine = el("p", { id: "platform-pay-state", text: "请患者用手机扫码支付 " + D.yuan(o.amount_fen) + "（订单 " + o.out_trade_no + "）" });
      box.appendChild(el("img", { id: "platform-pay-qr", alt: "支付二维码", src: "/api/desk/payments/" + encodeURIComponent(o.out_trade_no) + "/qr.png" }));
      box.appendChild(stateLine);
      box.appendChild(el("button", { type: "button", class: "secondary", id: "platform-pay-cancel", text: "不付了，关闭订单", onclick: function () {
        clearTimeout(payTimer);
        D.call("POST", "/api/desk/payments/" + encodeURIComponent(o.out_trade_no) + "/cancel").then(function (c) {
          box.textContent = "";
          if (c.state === "paid") open(v.id); else D.say("msg", "订单已关闭，未收款");
        }).catch(function (e) { alert(e.message); });
      } }));
      (function poll() {
        D.call("GET", "/api/desk/payments/" + encodeURIComponent(o.out_trade_no)).then(function (s) {
          if (s.state === "paid") { box.textContent = ""; D.say("msg", "已收款 " + D.yuan(s.amount_fen) + "（统一支付平台）"); open(v.id); return; }
          if (s.state === "pending") { payTimer = setTimeout(poll, 2000); return; }
          stateLine.textContent = s.state === "closed" ? "订单已关闭，未收款" : "支付未完成（" + s.state + "），请改用现金或重新下单";
        }).catch(function () { payTimer = setTimeout(poll, 4000); });
      })();
    }).catch(function (e) { box.textContent = ""; box.appendChild(el("p", { class: "notice", id: "platform-pay-state", text: e.message })); });
  }

  function open(id) { D.call("GET", "/api/desk/visits/" + id).then(render).catch(function (e) { D.say("msg", e.message); }); }

  // The waiver signature: drawn with a finger or mouse, sent as PNG.
  var pad = $("sign-pad"), ctx = pad.getContext("2d"), drawing = false, signed = false, target = null;
  ctx.lineWidth = 3; ctx.lineCap = "round";
  function pos(e) { var r = pad.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; }
  pad.addEventListener("pointerdown", function (e) { drawing = true; var p = pos(e); ctx.beginPath(); ctx.moveTo(p[0], p[1]); });
  pad.addEventListener("pointermove", function (e) { if (!drawing) return; var p = pos(e); ctx.lineTo(p[0], p[1]); ctx.stroke(); signed = true; });
  window.addEventListener("pointerup", function () { drawing = false; });
  $("sign-clear").addEventListener("click", function () { ctx.clearRect(0, 0, pad.width, pad.height); signed = false; });
  $("sign-cancel").addEventListener("click", function () { $("sign-dialog").close(); });
  $("sign-ok").addEventListener("click", function () {
    if (!signed) { alert("请先签名"); return; }
    var png = pad.toDataURL("image/png");
    $("sign-dialog").close();
    target(png);
  });
  // Asks for a signature, then `done(png)`; `what` and `ok` word the dialog.
  function askSignature(what, ok, done) {
    target = done;
    ctx.clearRect(0, 0, pad.width, pad.height); signed = false;
    $("sign-what").textContent = what;
    $("sign-ok").textContent = ok;
    $("sign-dialog").showModal();
  }
  function sign(v, it) {
    askSignature("请受检者在框内签名确认放弃 " + it.name, "确认弃检", function (png) {
      act("/api/desk/visits/" + v.id + "/items/" + encodeURIComponent(it.code), { change: "waive", signature_png: png });
    });
  }
  // E9: a published report handed to the person, a proxy (name, the last
  // four of their ID) or the company's clerk, who signs; or posted.
  var receivers = { person: "本人", proxy: "代领", company: "单位统一领取", post: "邮寄" };
  function handover(v, base) {
    var box = el("div", { id: "report-handover" });
    var list = el("ul", { class: "small", id: "handover-list" });
    function draw(rows) {
      list.textContent = "";
      rows.forEach(function (h) {
        list.appendChild(el("li", { text: when(h.at) + " " + receivers[h.to] + (h.proxy_name ? "：" + h.proxy_name + "（证件尾号 " + h.proxy_id_tail + "）" : "") +
          (h.signed ? "，已签名" : "") + " · 经办 " + h.by }));
      });
    }
    var to = el("select", { id: "handover-to" }, Object.keys(receivers).map(function (k) { return el("option", { value: k, text: receivers[k] }); }));
    var name = el("input", { id: "handover-name", placeholder: "代领人姓名", size: "8" });
    var tail = el("input", { id: "handover-tail", placeholder: "证件后四位", size: "6", maxlength: "4" });
    var go = el("button", { type: "button", id: "handover-go", text: "领取登记" });
    go.addEventListener("click", function () {
      var body = { to: to.value, proxy_name: name.value, proxy_id_tail: tail.value };
      function send(png) {
        if (png) body.signature_png = png;
        D.call("POST", base + "/handover", body).then(function (rows) { draw(rows); D.say("msg", "已登记领取", true); })
          .catch(function (e) { alert(e.message); });
      }
      if (to.value === "post") send(null);
      else askSignature("请领取人（" + receivers[to.value] + "）在框内签名", "确认领取", send);
    });
    box.appendChild(el("div", { class: "row" }, [el("label", {}, ["领取", to]), name, tail, go]));
    box.appendChild(list);
    D.call("GET", base + "/handovers").then(draw).catch(function () {});
    return box;
  }
  window.DeskPage = { open: open, current: function () { return current; } };
})();
