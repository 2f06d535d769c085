// Live registrations: the server pushes rendered, masked rows over SSE;
// EventSource reconnects by itself and resumes from the last event id.
(function () {
  "use strict";
  var tbody = document.getElementById("rows");
  if (!tbody || !window.EventSource) return;
  var count = document.getElementById("count");
  var live = document.getElementById("live");
  var src = new EventSource("/registrations/stream?after=" + encodeURIComponent(tbody.dataset.after || "0"));
  var stale = document.getElementById("stale");
  src.addEventListener("rows", function (e) {
    tbody.insertAdjacentHTML("afterbegin", e.data);
    count.textContent = String(tbody.rows.length);
    stale.hidden = true;
  });
  // The server could not read the store: the list is not current until it can.
  src.addEventListener("unavailable", function (e) {
    stale.textContent = e.data;
    stale.hidden = false;
  });
  src.addEventListener("current", function () { stale.hidden = true; });
  src.onopen = function () { live.className = "live"; };
  src.onerror = function () { live.className = "live down"; };
})();
