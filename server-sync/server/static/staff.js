// Live registrations: the server pushes rendered, masked rows over SSE;
// EventSource reconnects by itself and resumes from the last event id.
(function () {
  "use strict";
  var tbody = document.getElementById("rows");
  if (!tbody || !window.EventSource) return;
  var count = document.getElementById("count");
  var live = document.getElementById("live");
  var src = new EventSource("/registrations/stream?after=" + encodeURIComponent(tbody.dataset.after || "0"));
  src.addEventListener("rows", function (e) {
    tbody.insertAdjacentHTML("afterbegin", e.data);
    count.textContent = String(tbody.rows.length);
  });
  src.onopen = function () { live.className = "live"; };
  src.onerror = function () { live.className = "live down"; };
})();
