// Finance: reconcile a day's bill again (the platform's bill against our
// orders); the page reloads on the new run with its differences.
(function () {
  "use strict";
  var D = Desk, $ = function (id) { return document.getElementById(id); };
  var day = $("reconcile-day");
  var y = new Date(Date.now() - 86400000);
  day.value = y.getFullYear() + "-" + String(y.getMonth() + 1).padStart(2, "0") + "-" + String(y.getDate()).padStart(2, "0");
  $("reconcile-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    $("reconcile").disabled = true;
    D.say("msg", "正在向支付平台下载账单并核对…");
    D.call("POST", "/api/payments/reconciliations", { day: day.value }).then(function (r) {
      location.href = "/payments?run=" + r.run.id;
    }).catch(function (e) {
      $("reconcile").disabled = false;
      D.say("msg", e.message);
    });
  });
})();
