/* The fleet page: fetches /dashboard/api/fleet (one document for the whole fleet, no request per
   server) every data-refresh-seconds and redraws in place; filters and search run locally. */
"use strict";
(function () {
  var root = document.getElementById("fleet");
  var url = root.dataset.url, serverUrl = root.dataset.serverUrl;
  var refreshMs = 1000 * (parseInt(root.dataset.refreshSeconds, 10) || 15);
  var state = {doc: null, fetchedAt: 0, error: null};
  var $ = function (id) { return document.getElementById(id); };
  var levelInfo = {};

  function linkTo(name) { return serverUrl.replace("SERVER", encodeURIComponent(name)); }

  function freshness() {
    var el = $("freshness"), doc = state.doc;
    if (state.error) { el.className = "freshness error"; el.textContent = "Could not refresh: " + state.error + " (retrying)"; if (!doc) return; }
    if (!doc) return;
    if (doc.status !== "ok") { el.className = "freshness stale"; el.textContent = doc.message; return; }
    var ageNow = doc.age_seconds + (Date.now() - state.fetchedAt) / 1000;
    var stale = doc.summary.stale_servers;
    el.className = "freshness" + (ageNow > doc.stale_after_seconds || state.error ? " stale" : "");
    el.textContent = (state.error ? "Showing old data. " : "") + "Predictions " + Argus.age(ageNow) + " old" +
      (ageNow > doc.stale_after_seconds ? " (stale: no run since)" : "") +
      " · data up to " + Argus.utc(doc.data_timestamp) + " · model " + doc.model + " · " +
      (stale ? stale + " stale server" + (stale > 1 ? "s" : "") + " (no data for over an hour)" : "no stale servers");
  }

  function summary(doc) {
    var s = doc.summary;
    $("fleet-health").textContent = s.fleet_health.toFixed(1) + " / 100";
    doc.levels.forEach(function (l) { $("count-" + l.level).textContent = s[l.level]; });
    $("prob-30m").textContent = (100 * s.prob_30m).toFixed(1) + " %";
    $("prob-8h").textContent = (100 * s.prob_8h).toFixed(1) + " %";
    var profiles = {}, select = $("profile"), current = select.value;
    doc.servers.forEach(function (srv) { profiles[srv.profile] = true; });
    select.innerHTML = '<option value="">all</option>' + Object.keys(profiles).sort().map(function (p) {
      return '<option value="' + Argus.esc(p) + '"' + (p === current ? " selected" : "") + ">" + Argus.esc(p) + "</option>";
    }).join("");
  }

  function tile(srv) {
    var l = levelInfo[srv.level];
    var title = srv.name + ": " + l.label + ", risk " + srv.score + (srv.stale ? ", stale" : "") +
      ", CPU " + srv.cpu + " %, memory " + srv.mem + " %, last point " + Argus.utc(srv.last_point);
    return '<a class="tile' + (srv.stale ? " stale" : "") + '" href="' + Argus.esc(linkTo(srv.name)) +
      '" data-server="' + Argus.esc(srv.name) + '" data-level="' + srv.level + '" data-profile="' + Argus.esc(srv.profile) +
      '" style="--c:' + l.color + '" title="' + Argus.esc(title) + '"><span class="n">' + Argus.esc(srv.name) +
      '</span><span class="l">' + l.label + " " + srv.score + (srv.stale ? " · stale" : "") + "</span></a>";
  }

  function tiles() {
    var doc = state.doc;
    if (!doc || doc.status !== "ok") { $("tiles").innerHTML = ""; return; }
    var q = $("search").value.trim().toLowerCase(), profile = $("profile").value, level = $("level").value, group = $("group").value;
    var shown = doc.servers.filter(function (s) {
      return (!q || s.name.toLowerCase().indexOf(q) >= 0) && (!profile || s.profile === profile) && (!level || s.level === level);
    });
    // worst first, then by name: the servers that need a look come first
    var rank = {}; doc.levels.forEach(function (l, i) { rank[l.level] = i; });
    shown.sort(function (a, b) { return rank[a.level] - rank[b.level] || b.score - a.score || (a.name < b.name ? -1 : 1); });
    var html;
    if (group) {
      var groups = {}, order = [];
      shown.forEach(function (s) { var k = s[group]; if (!groups[k]) { groups[k] = []; order.push(k); } groups[k].push(s); });
      if (group === "profile") order.sort();
      html = order.map(function (k) {
        var label = group === "level" ? levelInfo[k].label : k;
        return '<h3 class="group-h">' + Argus.esc(label) + " (" + groups[k].length + ")</h3>" + groups[k].map(tile).join("");
      }).join("");
    } else {
      html = shown.map(tile).join("");
    }
    $("tiles").innerHTML = html;
    $("shown").textContent = shown.length + " of " + doc.servers.length + " servers shown";
  }

  function alerts(doc) {
    $("alert-count").textContent = "(" + doc.alerts.length + ")";
    $("alerts").innerHTML = doc.alerts.length ? doc.alerts.map(function (a) {
      var l = levelInfo[a.level];
      return '<tr data-level="' + a.level + '"><td><span class="badge" data-level="' + a.level + '" style="--c:' + l.color + '">' + l.label +
        '</span></td><td><a href="' + Argus.esc(linkTo(a.server_name)) + '">' + Argus.esc(a.server_name) + "</a></td><td>" +
        Argus.esc(a.message) + "</td><td>" + Argus.esc(a.time_to_issue) + "</td><td>" + Argus.esc(Argus.utc(a.since)) +
        "</td><td>" + a.risk_score + "</td></tr>";
    }).join("") : '<tr><td colspan="6" class="muted">No active alerts.</td></tr>';
    var waiting = doc.waiting || [];
    $("waiting-section").hidden = !waiting.length;
    $("waiting").textContent = waiting.map(function (w) { return w.name + " (" + w.points + " points)"; }).join(", ");
  }

  function render() {
    var doc = state.doc;
    if (doc && doc.status === "ok") {
      doc.levels.forEach(function (l) { levelInfo[l.level] = l; });
      summary(doc); alerts(doc);
    }
    tiles(); freshness();
    root.dataset.tick = doc && doc.tick != null ? doc.tick : "";
    root.dataset.rendered = "true";
    // when the tiles are on screen (after the next frame), for bench/dashboard.py
    if (!root.dataset.paintedMs) requestAnimationFrame(function () { setTimeout(function () {
      root.dataset.paintedMs = performance.now().toFixed(1);
    }); });
  }

  function refresh() {
    Argus.getJSON(url).then(function (doc) {
      state.doc = doc; state.fetchedAt = Date.now(); state.error = null; render();
    }).catch(function (e) { state.error = e.message; freshness(); })
      .then(function () { setTimeout(refresh, refreshMs); });
  }

  ["search", "profile", "level", "group"].forEach(function (id) { $(id).addEventListener("input", tiles); });
  setInterval(freshness, 1000);
  refresh();
})();
