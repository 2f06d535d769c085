// The interfaces page: retry a dead letter, re-fetch an item's results,
// send an item's order again by hand, fetch HIS's prices now. Every call carries the CSRF token
// (common.js); the page reloads to show the line as the store has it.
(function () {
  "use strict";
  function act(url, done) {
    Desk.call("POST", url).then(function (r) {
      Desk.say("iface-msg", done + "：" + r.key, true);
      setTimeout(function () { location.reload(); }, 800);
    }).catch(function (e) { Desk.say("iface-msg", e.message, false); });
  }
  document.addEventListener("click", function (ev) {
    var b = ev.target;
    if (!(b instanceof HTMLButtonElement)) return;
    if (b.classList.contains("retry")) {
      act("/api/interfaces/messages/" + b.dataset.id + "/retry", "已放回队列");
    } else if (b.classList.contains("refetch")) {
      act("/api/interfaces/visits/" + b.dataset.visit + "/items/" + encodeURIComponent(b.dataset.item) + "/refetch", "已请求重新获取");
    } else if (b.classList.contains("his-prices")) {
      b.disabled = true;
      Desk.call("POST", "/api/interfaces/his/prices/sync").then(function (r) {
        Desk.say("iface-msg", r.ok
          ? "HIS 价表版本 " + r.his_version + "：新记录 " + r.recorded + " 条变更，已生效 " + r.applied + " 条"
          : "未能取得 HIS 价表：" + r.error, r.ok);
        setTimeout(function () { location.reload(); }, 1200);
      }).catch(function (e) { b.disabled = false; Desk.say("iface-msg", e.message, false); });
    } else if (b.classList.contains("transfer")) {
      act("/api/interfaces/visits/" + b.dataset.visit + "/items/" + encodeURIComponent(b.dataset.item) + "/transfer", "已重新发送申请单");
    }
  });
})();
