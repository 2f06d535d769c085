// 分科录入: scan a guide sheet, enter this room's items from their
// templates (findings default to normal; numbers flagged live against the
// person's range), the summary written as you go (editable), quality
// checks before saving, other departments' summaries and earlier years.
(function () {
  "use strict";
  var el = Desk.el, call = Desk.call;
  var roomSel = document.getElementById("room");
  var saved = localStorage.getItem("dept-room");
  if (saved) roomSel.value = saved;
  var params = new URLSearchParams(location.search);
  if (params.get("room")) roomSel.value = params.get("room");
  roomSel.addEventListener("change", function () { localStorage.setItem("dept-room", roomSel.value); });
  var v = null, edited = false, timer = null;
  function $(id) { return document.getElementById(id); }
  function msg(t) { $("msg").textContent = t; }
  var arrows = { low: "↓", high: "↑", positive: "阳性", normal: "" };
  function entries() {
    return v.items.map(function (it) {
      var values = [];
      it.template.fields.forEach(function (f) {
        var id = "f-" + it.code + "-" + f.code;
        if (f.kind.kind === "numeric") {
          var x = $(id).value.trim();
          if (x !== "") values.push([f.code, { type: "number", value: Number(x) }]);
        } else if (f.kind.kind === "findings") {
          var ticked = Array.prototype.slice.call(document.querySelectorAll("input[data-field='" + id + "']:checked"))
            .map(function (c) { return c.value; });
          values.push([f.code, { type: "findings", value: ticked }]);
        } else {
          var t = $(id).value.trim();
          if (t) values.push([f.code, { type: "text", value: t }]);
        }
      });
      return { item: it.code, values: values };
    });
  }
  function body(confirm) {
    var b = { entries: entries(), confirm: !!confirm };
    if (edited) b.summary = $("summary").value;
    return b;
  }
  function url() { return "/api/results/visits/" + v.person.id + "/departments/" + v.department; }
  function show(p) {
    if (!edited) $("summary").value = p.summary.text;
    p.flags.forEach(function (f) {
      var s = $("flag-" + f.item + "-" + f.field);
      if (s) { s.textContent = arrows[f.flag]; s.className = "flag " + f.flag; }
    });
    var c = $("conclusions"); c.textContent = "";
    p.conclusions.forEach(function (x) { c.appendChild(el("li", {}, [el("strong", { text: x.name }), " " + x.advice])); });
    var i = $("issues"); i.textContent = "";
    p.issues.forEach(function (x) { i.appendChild(el("li", { text: x.message })); });
    $("confirm").hidden = !(p.issues.length && !p.saved);
  }
  // On a change: the summary and flags again, and the page says unsaved.
  function preview(opening) {
    if (opening !== true) $("saved").textContent = "有未保存的修改";
    clearTimeout(timer);
    timer = setTimeout(function () {
      call("POST", url() + "/preview", body()).then(show, function (e) { $("issues").textContent = e.message; });
    }, 150);
  }
  function fieldRow(it, f) {
    var id = "f-" + it.code + "-" + f.code, flag = el("span", { id: "flag-" + it.code + "-" + f.code, class: "flag" });
    var val = it.entry && it.entry.values.filter(function (p) { return p[0] === f.code; })[0];
    val = val && val[1];
    if (f.kind.kind === "numeric") {
      var range = (it.ranges.filter(function (r) { return r[0] === f.code; })[0] || [])[1] || "";
      var input = el("input", { id: id, inputmode: "decimal", size: "8", oninput: preview });
      if (val) input.value = val.value;
      return el("div", { class: "field" }, [el("label", { for: id, text: f.name }), input, " " + f.kind.unit + " ", flag,
        el("span", { class: "quiet small", text: range ? "参考 " + range : "" })]);
    }
    if (f.kind.kind === "findings") {
      var ticked = val ? val.value : [];
      return el("div", { class: "field" }, [el("span", { class: "label", text: f.name }), el("span", { class: "quiet", text: f.kind.normal + " / " })]
        .concat(f.kind.positives.map(function (p) {
          var box = el("input", { type: "checkbox", value: p.code, "data-field": id, onchange: preview });
          if (ticked.indexOf(p.code) >= 0) box.checked = true;
          return el("label", { class: "check pos" + (p.major ? " major" : "") }, [box, p.text + (p.major ? "（重要异常 " + p.major + " 类）" : "")]);
        })).concat([flag]));
    }
    var t = el("input", { id: id, size: "40", oninput: preview });
    if (val) t.value = val.value;
    return el("div", { class: "field" }, [el("label", { for: id, text: f.name }), t]);
  }
  function draw() {
    var p = v.person;
    $("who").textContent = p.name + "　" + p.sex + "　" + p.age + "岁　" + p.exam_no + "　" + p.package + "　" + v.department_name;
    var box = $("items"); box.textContent = "";
    if (!v.items.length) box.appendChild(el("p", { class: "warn", text: "此人在本诊室没有检查项目" }));
    v.items.forEach(function (it) {
      var head = it.name + (it.by_interface ? "（手工录入，将标注）" : "") + (it.entry ? "　已录入：" + it.entry.entered_by : "");
      box.appendChild(el("fieldset", { "data-item": it.code }, [el("legend", { text: head })]
        .concat(it.template.fields.map(function (f) { return fieldRow(it, f); }))));
    });
    edited = false;
    $("summary").value = v.summary ? v.summary.text : "";
    $("saved").textContent = "";
    var o = document.querySelector("#others tbody"); o.textContent = "";
    v.others.forEach(function (s) { o.appendChild(el("tr", {}, [el("td", { text: s.department }), el("td", { text: s.text }), el("td", { text: s.written_by })])); });
    var e = document.querySelector("#earlier tbody"); e.textContent = "";
    v.earlier.forEach(function (x) {
      var val = x.value.type === "findings" ? (x.value.value.join("、") || "正常") : String(x.value.value);
      e.appendChild(el("tr", {}, [el("td", { text: String(x.year) }), el("td", { text: x.item }), el("td", { text: x.field }), el("td", { text: val })]));
    });
    drawHistory();
    drawAsked();
    drawExtra();
    $("visit").hidden = false;
    if (v.items.length) preview(true);
  }
  var parts = ["past", "surgical", "family", "present", "allergies", "medication"];
  function drawHistory() {
    var h = v.history ? v.history.history : {};
    parts.forEach(function (k) { $("h-" + k).value = h[k] || ""; });
    $("h-smoking").value = h.smoking || "never";
    $("h-drinking").value = h.drinking || "never";
    $("history-state").textContent = v.history ? "（" + v.history.written_by + " 已录入）" : "（未录入）";
    $("history-msg").textContent = "";
  }
  function drawAsked() {
    var box = $("asked"); box.textContent = "";
    var given = {};
    v.asked.answers.forEach(function (a) { given[a[0]] = a[1]; });
    v.asked.questions.forEach(function (q) {
      var input = q.yes_no ? el("input", { type: "checkbox", "data-q": q.code }) : el("input", { "data-q": q.code, size: "20" });
      if (q.yes_no) input.checked = given[q.code] === true; else input.value = given[q.code] || "";
      box.appendChild(el("label", { class: q.yes_no ? "check" : "" }, [input, " " + q.text]));
    });
    $("asked-box").hidden = !v.asked.questions.length;
    $("asked-msg").textContent = "";
  }
  // 加项: what this room's conclusions suggest; added, then paid here by
  // the person scanning the platform's QR (polled until paid).
  var extraTimer = null;
  function drawExtra() {
    var box = $("extra"); box.textContent = "";
    v.suggested.forEach(function (x) {
      box.appendChild(el("label", { class: "check" }, [el("input", { type: "checkbox", value: x.code }),
        " " + x.name + "（¥" + (x.price_fen / 100).toFixed(2) + "）— " + x.because + "：" + x.reason]));
    });
    $("extra-box").hidden = !v.suggested.length;
    $("extra-pay").hidden = true; $("extra-msg").textContent = "";
    clearTimeout(extraTimer);
  }
  $("extra-add").addEventListener("click", function () {
    var items = Array.prototype.map.call(document.querySelectorAll("#extra input:checked"), function (c) { return c.value; });
    if (!items.length) { $("extra-msg").textContent = "请勾选加项"; return; }
    call("POST", "/api/results/visits/" + v.person.id + "/extra-items", { items: items }).then(function (r) {
      $("extra-msg").textContent = "已加项 " + r.added.length + " 项" + (r.pay_at_desk ? "；" + r.pay_at_desk : "");
      if (!r.order) return;
      var no = r.order.out_trade_no;
      $("extra-qr").src = "/api/results/payments/" + encodeURIComponent(no) + "/qr.png";
      $("extra-state").textContent = "请受检者扫码支付 ¥" + (r.order.amount_fen / 100).toFixed(2);
      $("extra-pay").hidden = false;
      (function poll() {
        call("GET", "/api/results/payments/" + encodeURIComponent(no)).then(function (o) {
          if (o.state === "paid") { $("extra-state").textContent = "已缴费，可以检查"; return; }
          if (o.state === "closed") { $("extra-state").textContent = "订单已关闭，请到前台缴费"; return; }
          extraTimer = setTimeout(poll, 2000);
        }, function () { extraTimer = setTimeout(poll, 4000); });
      })();
    }, function (e) { $("extra-msg").textContent = e.message; });
  });
  $("history-save").addEventListener("click", function () {
    var h = { smoking: $("h-smoking").value, drinking: $("h-drinking").value };
    parts.forEach(function (k) { h[k] = $("h-" + k).value.trim(); });
    call("POST", "/api/results/visits/" + v.person.id + "/history", h).then(function (r) {
      v.history = r; drawHistory(); $("history-msg").textContent = "已保存";
    }, function (e) { $("history-msg").textContent = e.message; });
  });
  $("asked-save").addEventListener("click", function () {
    var answers = Array.prototype.map.call(document.querySelectorAll("#asked input"), function (i) {
      return [i.getAttribute("data-q"), i.type === "checkbox" ? i.checked : i.value.trim()];
    });
    call("POST", url() + "/questionnaire", { answers: answers }).then(function (lines) {
      v.asked.answers = answers;
      $("asked-msg").textContent = "已保存" + (lines.length ? "：" + lines.join("；") : "（均为否）");
    }, function (e) { $("asked-msg").textContent = e.message; });
  });
  $("find").addEventListener("submit", function (ev) {
    ev.preventDefault();
    msg("");
    call("GET", "/api/results/find?q=" + encodeURIComponent($("scan").value) + "&room=" + encodeURIComponent(roomSel.value))
      .then(function (r) { v = r; draw(); $("scan").select(); }, function (e) { msg(e.message); $("visit").hidden = true; });
  });
  $("summary").addEventListener("input", function () { edited = true; });
  $("all-normal").addEventListener("click", function () {
    document.querySelectorAll("#items input[type=checkbox]").forEach(function (c) { c.checked = false; });
    preview();
  });
  function save(confirm) {
    call("POST", url(), body(confirm)).then(function (p) {
      show(p);
      $("saved").textContent = p.saved ? "已保存" + (p.majors_raised ? "，已上报重要异常 " + p.majors_raised + " 项" : "") : "请核对以上提示";
    }, function (e) { $("saved").textContent = e.message; });
  }
  $("save").addEventListener("click", function () { save(false); });
  $("confirm").addEventListener("click", function () { save(true); });
})();
