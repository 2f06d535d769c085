// Shared by the desk pages: JSON calls with the session's CSRF token, and
// safe text rendering (never innerHTML with data).
var Desk = (function () {
  "use strict";
  var csrf = document.querySelector('meta[name="csrf"]').content;
  function call(method, url, body) {
    var opts = { method: method, headers: { "x-csrf": csrf }, credentials: "same-origin" };
    if (body !== undefined) {
      opts.headers["content-type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    return fetch(url, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) { var e = new Error(j.message || ("HTTP " + r.status)); e.code = j.error; throw e; }
        return j;
      });
    });
  }
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "class") e.className = attrs[k];
      else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return e;
  }
  function yuan(fen) { return "¥" + (fen / 100).toFixed(2); }
  function say(id, text, ok) {
    var m = document.getElementById(id);
    m.textContent = text;
    m.className = ok ? "notice ok" : "error";
  }
  var states = { booked: "已预约", checked_in: "已登记", cancelled: "已取消" };
  var sexes = { male: "男", female: "女" };
  return { call: call, el: el, yuan: yuan, say: say, states: states, sexes: sexes, csrf: csrf };
})();
