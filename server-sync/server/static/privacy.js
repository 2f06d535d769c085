// The person's-rights page: each button calls the JSON API with the
// session's CSRF token (common.js), then shows the page again.
(function () {
  "use strict";
  var D = Desk;
  var visit = document.querySelector("main.privacy").getAttribute("data-visit");
  var base = "/api/desk/visits/" + visit + "/privacy";
  function done(text) { D.say("privacy-msg", text, true); setTimeout(function () { location.reload(); }, 800); }
  function failed(e) { D.say("privacy-msg", e.message, false); }
  document.querySelectorAll("[data-withdraw]").forEach(function (b) {
    b.addEventListener("click", function () {
      if (!confirm("确认本人撤回此项授权？撤回后立即停止，照片授权撤回将删除已保存的照片。")) return;
      D.call("POST", base + "/withdraw", { purpose: b.getAttribute("data-withdraw") })
        .then(function () { done("已撤回"); }, failed);
    });
  });
  document.querySelectorAll("[data-grant]").forEach(function (b) {
    b.addEventListener("click", function () {
      D.call("POST", base + "/consents", { purpose: b.getAttribute("data-grant"), granted: true, channel: "desk" })
        .then(function () { done("已记录本人同意"); }, failed);
    });
  });
  document.querySelectorAll("[data-erase]").forEach(function (b) {
    b.addEventListener("click", function () {
      var all = b.getAttribute("data-erase") === "anonymise";
      var ask = all ? "确认整体匿名化？此人的姓名、身份证号、手机号、照片与授权将删除，未到检的预约将取消，不可恢复。"
                    : "确认删除此人的手机号、照片与可选授权？体检记录按规定保留。";
      if (!confirm(ask)) return;
      D.call("POST", base + "/erase", { erasure: b.getAttribute("data-erase") })
        .then(function () {
          if (all) { D.say("privacy-msg", "已匿名化", true); document.querySelectorAll("button").forEach(function (x) { x.disabled = true; }); }
          else done("已删除");
        }, failed);
    });
  });
})();
