/* Shared by the dashboard's pages: escaping, times, fetching the pages' JSON with the session. */
"use strict";
var Argus = (function () {
  var ESC = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"};
  function esc(value) { return String(value == null ? "" : value).replace(/[&<>"']/g, function (c) { return ESC[c]; }); }
  function age(seconds) {
    if (seconds == null) return "–";
    if (seconds < 90) return Math.round(seconds) + " s";
    if (seconds < 5400) return Math.round(seconds / 60) + " min";
    if (seconds < 172800) return (seconds / 3600).toFixed(1) + " h";
    return Math.round(seconds / 86400) + " days";
  }
  function utc(iso) { return iso ? iso.replace("T", " ").replace(/:\d\dZ$/, " UTC").replace(/Z$/, " UTC") : "–"; }
  function getJSON(url) {
    return fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}}).then(function (r) {
      if (r.status === 401) { window.location.href = "/login/?next=" + encodeURIComponent(location.pathname); throw new Error("logged out"); }
      return r.json().then(function (body) { if (!r.ok) { var e = new Error(body.detail || ("HTTP " + r.status)); e.status = r.status; e.body = body; throw e; } return body; });
    });
  }
  return {esc: esc, age: age, utc: utc, getJSON: getJSON};
})();
