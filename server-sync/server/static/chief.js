// 总检: my worklist, the pool and (reviewers) reports to review; a report's
// results and departments' summaries, its conclusions ordered by dragging,
// merged, added from the dictionary by pinyin initials; lock, unlock,
// preview, approve (publishes the PDF) or return with a reason.
(function () {
  "use strict";
  var el = Desk.el, call = Desk.call;
  function $(id) { return document.getElementById(id); }
  var states = { assigned: "待总检", draft: "草稿", locked: "已锁定待总审", published: "已发布" };
  var open = null, data = null, picked = [];
  function say(t) { $("msg").textContent = t; }
  function fail(e) { say(e.message); }
  function time(t) { return t ? new Date(t).toLocaleString("zh-CN") : ""; }
  function rows(id, list, last) {
    var tb = document.querySelector("#" + id + " tbody"); tb.textContent = "";
    list.forEach(function (r) {
      tb.appendChild(el("tr", { "data-id": r.booking_id, class: "pick", onclick: function () { show(r.booking_id); } }, [
        el("td", { text: r.exam_no }), el("td", { text: r.name }), el("td", { text: r.sex }), el("td", { text: String(r.age) }),
        el("td", { text: r.company || "个人" }), el("td", { text: "★★★".slice(0, r.grade) }), el("td", { text: last(r) })]));
    });
  }
  function refresh() {
    return call("GET", "/api/chief/worklist").then(function (w) {
      $("me").textContent = w.me ? "总检医生 " + w.me.login + "（" + w.me.level + " 级" + (w.me.reviewer ? "，总审" : "") + "）" : "当前账号不是总检医生";
      $("assign").hidden = !(w.me && w.me.reviewer);
      $("review-box").hidden = !(w.me && w.me.reviewer);
      rows("mine", w.mine, function (r) { return states[r.state]; });
      rows("review", w.review, function (r) { return r.locked_by || ""; });
      rows("pool", w.pool, function (r) { return states[r.state]; });
      $("pool-count").textContent = w.pool.length + " 份";
      return stats();
    }, fail);
  }
  function stats() {
    return call("GET", "/api/chief/stats").then(function (s) {
      $("states").textContent = s.states.map(function (x) { return states[x[0]] + " " + x[1]; }).join("，");
      var tb = document.querySelector("#stats tbody"); tb.textContent = "";
      s.returns.forEach(function (r) { tb.appendChild(el("tr", {}, [el("td", { text: r[0] }), el("td", { text: r[2] }), el("td", { text: String(r[3]) })])); });
    });
  }
  function edit(body) {
    body.version = data.report.version;
    return call("POST", "/api/chief/reports/" + open + "/edits", body).then(function () { return show(open); }, fail);
  }
  function act(body) {
    body.version = data.report.version;
    return call("POST", "/api/chief/reports/" + open, body).then(function (r) {
      say("报告" + states[r.state]);
      return refresh().then(function () { return show(open); });
    }, fail);
  }
  function drawConclusions() {
    var ol = $("conclusions"); ol.textContent = "";
    var editable = data.may.indexOf("save") >= 0;
    data.report.conclusions.forEach(function (c, i) {
      var advice = el("textarea", { rows: "2", cols: "60", class: "advice" }); advice.value = c.advice; advice.disabled = !editable;
      advice.addEventListener("change", function () { edit({ op: "advice", at: i, advice: advice.value }); });
      var box = el("input", { type: "checkbox", class: "pick-two" }); box.disabled = !editable;
      box.checked = picked.indexOf(i) >= 0;
      box.addEventListener("change", function () {
        if (box.checked) picked.push(i); else picked = picked.filter(function (x) { return x !== i; });
        $("merge").hidden = picked.length !== 2;
      });
      var li = el("li", { draggable: editable ? "true" : "false", "data-at": String(i), class: "w" + c.weight }, [
        box, el("strong", { class: "name", text: c.name }), el("small", { class: "quiet", text: c.sources.length ? "（" + c.sources.join("、") + "）" : "" }),
        editable ? el("button", { type: "button", class: "up", title: "上移", onclick: function () { if (i > 0) edit({ op: "move", from: i, to: i - 1 }); } }, ["↑"]) : null,
        editable ? el("button", { type: "button", class: "remove", title: "删除", onclick: function () { edit({ op: "remove", at: i }); } }, ["×"]) : null,
        el("br"), advice]);
      li.addEventListener("dragstart", function (e) { e.dataTransfer.setData("text/plain", String(i)); });
      li.addEventListener("dragover", function (e) { e.preventDefault(); });
      li.addEventListener("drop", function (e) {
        e.preventDefault();
        var from = parseInt(e.dataTransfer.getData("text/plain"), 10);
        if (from !== i) edit({ op: "move", from: from, to: i });
      });
      ol.appendChild(li);
    });
    $("merge").hidden = picked.length !== 2;
    $("add").hidden = !editable;
  }
  function show(id) {
    if (open !== id) picked = [];
    open = id;
    return call("GET", "/api/chief/reports/" + id).then(function (d) {
      data = d;
      $("r-title").textContent = d.exam_no + " · " + states[d.report.state] + (d.report.physician ? " · 总检医生 " + d.report.physician : "");
      $("r-who").textContent = d.name + "　" + d.sex + "　" + d.age + "岁　" + d.package + "　" + (d.company || "个人");
      $("r-majors").hidden = !d.majors.length;
      $("r-majors").textContent = d.majors.length ? "重要异常：" + d.majors.join("；") : "";
      var ab = $("r-abnormal"); ab.textContent = "";
      d.abnormal.forEach(function (a) { ab.appendChild(el("li", { text: a })); });
      var tb = document.querySelector("#r-depts tbody"); tb.textContent = "";
      d.departments.forEach(function (s) { tb.appendChild(el("tr", {}, [el("td", { text: s.name }), el("td", { text: s.summary }), el("td", { text: s.conclusions.join("；") }), el("td", { text: s.written_by })])); });
      var secs = $("r-sections"); secs.textContent = "";
      d.sections.forEach(function (s) {
        var t = el("table", { class: "grid small" }, [el("caption", { text: s.name + (s.by_hand ? "（手工录入）" : "") })]);
        s.rows.forEach(function (r) {
          t.appendChild(el("tr", { class: r.flag === "normal" ? "" : "late" }, [el("td", { text: r.name }), el("td", { text: r.value + (r.unit ? " " + r.unit : "") }), el("td", { text: r.range })]));
        });
        secs.appendChild(t);
      });
      var docs = $("r-docs"); docs.textContent = "";
      d.documents.forEach(function (x) {
        docs.appendChild(el("li", {}, [el("a", { href: x.url, target: "_blank", rel: "noopener noreferrer", text: x.item + "：" + x.name })]));
      });
      $("r-docs-box").hidden = !d.documents.length;
      drawConclusions();
      $("preview").href = "/api/chief/reports/" + id + "/preview.pdf";
      $("lock").hidden = d.may.indexOf("lock") < 0;
      $("unlock").hidden = d.may.indexOf("unlock") < 0;
      $("approve").hidden = d.may.indexOf("approve") < 0;
      $("return-box").hidden = d.may.indexOf("return") < 0;
      var rt = document.querySelector("#returns tbody"); rt.textContent = "";
      d.returns.forEach(function (r) { rt.appendChild(el("tr", {}, [el("td", { text: time(r.at) }), el("td", { text: r.reviewer }), el("td", { text: r.reason_zh }), el("td", { text: r.note })])); });
      $("report").hidden = false;
    }, fail);
  }
  var searchTimer = null;
  $("add-q").addEventListener("input", function () {
    clearTimeout(searchTimer);
    var q = $("add-q").value.trim();
    searchTimer = setTimeout(function () {
      var hits = $("add-hits"); hits.textContent = "";
      if (!q) return;
      call("GET", "/api/chief/conclusions?q=" + encodeURIComponent(q)).then(function (list) {
        list.slice(0, 8).forEach(function (c) {
          hits.appendChild(el("button", { type: "button", class: "hit", "data-code": c.code, onclick: function () { $("add-q").value = ""; hits.textContent = ""; edit({ op: "add", code: c.code }); } }, [c.name]));
        });
      });
    }, 150);
  });
  $("write").addEventListener("click", function () { edit({ op: "write", name: $("write-name").value, advice: $("write-advice").value }).then(function () { $("write-name").value = ""; $("write-advice").value = ""; }); });
  $("merge").addEventListener("submit", function (e) {
    e.preventDefault();
    var a = Math.min(picked[0], picked[1]), b = Math.max(picked[0], picked[1]);
    picked = [];
    edit({ op: "merge", a: a, b: b, name: $("merge-name").value, advice: $("merge-advice").value });
  });
  $("lock").addEventListener("click", function () { act({ action: "lock" }); });
  $("unlock").addEventListener("click", function () { act({ action: "unlock" }); });
  $("approve").addEventListener("click", function () { act({ action: "approve" }); });
  $("return").addEventListener("click", function () { act({ action: "return", reason: $("return-reason").value, note: $("return-note").value }); });
  $("refresh").addEventListener("click", refresh);
  $("assign").addEventListener("click", function () {
    call("POST", "/api/chief/assign").then(function (r) { say("已分配 " + r.assigned + " 份" + (r.left ? "，" + r.left + " 份无合适医生" : "")); return refresh(); }, fail);
  });
  refresh();
})();
