// The emergency page: switch on / off after a confirmation; every call
// carries the CSRF token (common.js); the page reloads to show the store.
(function () {
  "use strict";
  function fields(form) {
    var out = {};
    Array.prototype.forEach.call(form.querySelectorAll("input"), function (i) {
      if (i.value.trim() !== "") out[i.name] = i.value.trim();
    });
    return out;
  }
  function bind(id, url, question, done) {
    var form = document.getElementById(id);
    if (!form) return;
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (!window.confirm(question)) return;
      Desk.call("POST", url, fields(form)).then(function () {
        Desk.say("emergency-msg", done, true);
        setTimeout(function () { location.reload(); }, 600);
      }).catch(function (e) { Desk.say("emergency-msg", e.message, false); });
    });
  }
  bind("switch-on", "/api/emergency/on",
    "确认开启应急模式？登记与现金收费将使用应急收据号，自助机将请患者到收费处缴费。", "应急模式已开启");
  bind("switch-off", "/api/emergency/off",
    "确认关闭应急模式？队列将补传所有数据，完成后生成对账报告。", "应急模式已关闭，正在补传");
})();
