// The desk's reports in batches: the companies with published reports,
// each one's group book, pickup slip and all its reports in one file;
// all reports of an exam date in one file.
(function () {
  "use strict";
  function $(id) { return document.getElementById(id); }
  var sel = $("batch-company");
  function links() {
    var c = sel.value;
    [["batch-book", "/book.pdf"], ["batch-slip", "/pickup-slip.pdf"]].forEach(function (x) {
      if (c) $(x[0]).href = "/api/group/companies/" + c + x[1]; else $(x[0]).removeAttribute("href");
    });
    if (c) $("batch-company-pdf").href = "/api/desk/reports/batch.pdf?company=" + c; else $("batch-company-pdf").removeAttribute("href");
    $("batch-date-pdf").href = "/api/desk/reports/batch.pdf?date=" + $("batch-date").value;
  }
  $("batch").addEventListener("toggle", function () {
    if (!$("batch").open || sel.options.length > 1) return;
    Desk.call("GET", "/api/desk/reports/companies").then(function (list) {
      list.forEach(function (c) {
        var o = document.createElement("option");
        o.value = c.id; o.textContent = c.name + "（" + c.reports + " 份）";
        sel.appendChild(o);
      });
    });
  });
  sel.addEventListener("change", links);
  $("batch-date").addEventListener("change", links);
  links();
})();
