// The auditor's view of the audit trail: read-only, searched by time,
// operator and ID number (the server masks ID numbers in the answer).
(function () {
  "use strict";
  var D = Desk, el = D.el, $ = function (id) { return document.getElementById(id); };

  function search() {
    var q = [];
    if ($("op-from").value) q.push("from=" + $("op-from").value + "T00:00:00Z");
    if ($("op-to").value) q.push("to=" + $("op-to").value + "T23:59:59Z");
    if ($("op-actor").value.trim()) q.push("actor=" + encodeURIComponent($("op-actor").value.trim()));
    if ($("op-subject").value.trim()) q.push("subject=" + encodeURIComponent($("op-subject").value.trim()));
    return D.call("GET", "/api/audit/operations?" + q.join("&")).then(function (r) {
      var tb = $("ops"); tb.textContent = "";
      r.operations.forEach(function (o) {
        tb.appendChild(el("tr", {}, [el("td", { text: o.at.replace("T", " ").slice(0, 19) }), el("td", { text: o.actor }),
          el("td", { text: o.action }), el("td", { text: o.subject }), el("td", { text: o.detail })]));
      });
      D.say("op-msg", r.operations.length + " 条", true);
    }).catch(function (e) { D.say("op-msg", e.message); });
  }
  $("op-form").addEventListener("submit", function (ev) { ev.preventDefault(); search(); });
  search();
})();
