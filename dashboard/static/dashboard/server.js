/* The server page: fetches /dashboard/api/servers/<name>?range=..., draws a chart per forecast
   metric, the current metrics, the alerts and the timeline; then the model's explanation. */
"use strict";
(function () {
  var root = document.getElementById("server");
  var $ = function (id) { return document.getElementById(id); };
  var LEVELS = {critical: ["Critical", "#FF0000"], warning: ["Warning", "#FFA500"], degraded: ["Degraded", "#FFD700"], healthy: ["Healthy", "#00FF00"]};
  var NAMES = {cpu_pct: "CPU %", mem_pct: "Memory %", iowait_pct: "I/O wait %", swap_pct: "Swap %", disk_pct: "Disk %",
               load_average: "Load average", net_in_mb_s: "Net in MB/s", net_out_mb_s: "Net out MB/s", status: "Status"};

  function badge(level) {
    var l = LEVELS[level] || [level, "#ccc"];
    return '<span class="badge" data-level="' + Argus.esc(level) + '" style="--c:' + l[1] + '">' + l[0] + "</span>";
  }

  function render(doc) {
    if (doc.status === "ok") {
      $("badge").outerHTML = '<span id="badge" class="badge" data-level="' + doc.alert.level + '" style="--c:' + doc.alert.color + '">' +
        Argus.esc(doc.alert.label) + " · risk " + doc.risk_score + "</span>";
      $("freshness").className = "freshness" + (doc.stale ? " stale" : "");
      $("freshness").textContent = "Profile " + doc.profile + " · last point " + Argus.utc(doc.last_point) +
        (doc.stale ? " · STALE: no data for over an hour" : "") + (doc.gaps ? " · gaps in the window" : "") +
        " · model " + doc.model + " · tick " + doc.tick;
      $("display-metrics").innerHTML = Object.keys(doc.display_metrics).map(function (k) {
        return "<div><dt>" + Argus.esc(NAMES[k] || k) + "</dt><dd>" + Argus.esc(doc.display_metrics[k]) + "</dd></div>";
      }).join("");
      $("server-alerts").innerHTML = doc.alerts.length ? doc.alerts.map(function (a) {
        return "<li>" + badge(a.level) + " " + Argus.esc(a.message) + " (time to issue " + Argus.esc(a.time_to_issue) +
          ", since " + Argus.esc(Argus.utc(a.since)) + ")</li>";
      }).join("") : '<li class="muted">None.</li>';
    } else {
      $("freshness").className = "freshness stale";
      $("freshness").textContent = "No forecast yet: " + (doc.points == null ? "no recent data" : doc.points + " points held, the model needs more history");
    }
    var charts = $("charts");
    charts.innerHTML = "";
    doc.metrics.forEach(function (m) {
      var box = document.createElement("figure");
      box.className = "chart"; box.dataset.metric = m.name; box.style.margin = "0";
      var h = document.createElement("h3"); h.textContent = m.label; box.appendChild(h);
      ArgusChart.draw(box, m);
      charts.appendChild(box);
    });
    $("timeline").innerHTML = doc.timeline.length ? doc.timeline.map(function (e) {
      return "<tr><td>" + Argus.esc(Argus.utc(e.at)) + "</td><td>" + Argus.esc(e.event) + "</td><td>" + badge(e.level) +
        "</td><td>" + Argus.esc(e.metric) + "</td><td>" + Argus.esc(e.message) + "</td></tr>";
    }).join("") : '<tr><td colspan="5" class="muted">No alert transitions.</td></tr>';
    root.dataset.rendered = "true";
  }

  function load(range) {
    document.querySelectorAll("[data-range]").forEach(function (b) { b.setAttribute("aria-pressed", String(b.dataset.range === range)); });
    Argus.getJSON(root.dataset.url + "?range=" + range).then(render).catch(function (e) {
      $("freshness").className = "freshness error"; $("freshness").textContent = "Could not load: " + e.message;
    });
  }

  function weightTable(title, weights) {
    var names = Object.keys(weights).sort(function (a, b) { return weights[b] - weights[a]; });
    var sum = names.reduce(function (s, n) { return s + weights[n]; }, 0);
    return '<div><h3>' + title + '</h3><table data-group="' + title.toLowerCase() + '"><tbody>' + names.map(function (n) {
      var w = weights[n];
      return '<tr><td>' + Argus.esc(n) + '</td><td><span class="bar" style="width:' + Math.round(120 * w) + 'px"></span></td>' +
        '<td class="w" data-weight="' + w + '">' + (100 * w).toFixed(1) + " %</td></tr>";
    }).join("") + '</tbody><tfoot><tr><th>total</th><td></td><td class="w" data-total>' + (100 * sum).toFixed(1) + " %</td></tr></tfoot></table></div>";
  }

  function attention(points) {
    if (!points.length) return "";
    var max = Math.max.apply(null, points.map(function (p) { return p.weight; })), W = 300, H = 60;
    var bars = points.map(function (p, i) {
      var h = max ? p.weight / max * (H - 4) : 0, x = i * W / points.length;
      return '<rect x="' + x.toFixed(1) + '" y="' + (H - h).toFixed(1) + '" width="' + Math.max(W / points.length, 0.5).toFixed(2) + '" height="' + h.toFixed(1) + '" fill="#1f5fbf"></rect>';
    }).join("");
    var top = points.slice().sort(function (a, b) { return b.weight - a.weight; }).slice(0, 3);
    return '<div><h3>Attention over the past</h3><svg viewBox="0 0 ' + W + " " + H + '" role="img" aria-label="attention over past steps">' + bars +
      '</svg><p class="muted">From ' + Argus.esc(Argus.utc(points[0].timestamp)) + " to " + Argus.esc(Argus.utc(points[points.length - 1].timestamp)) +
      ". Most weight on: " + top.map(function (p) { return Argus.esc(Argus.utc(p.timestamp)) + " (" + (100 * p.weight).toFixed(1) + " %)"; }).join(", ") + "</p></div>";
  }

  function explain() {
    Argus.getJSON(root.dataset.explainUrl).then(function (doc) {
      $("explain-status").textContent = "The model's own variable-selection weights and attention for its forecast at tick " +
        doc.tick + " (model " + doc.model + "). Weights in each table sum to 100 %.";
      var body = $("explain-body");
      body.innerHTML = weightTable("Encoder", doc.variables.encoder) + weightTable("Decoder", doc.variables.decoder) +
        weightTable("Static", doc.variables.static) + attention(doc.attention);
      body.hidden = false;
      root.dataset.explained = "true";
    }).catch(function (e) {
      $("explain-status").textContent = "No explanation: " + e.message;
      root.dataset.explained = "none";
    });
  }

  document.querySelectorAll("[data-range]").forEach(function (b) {
    b.addEventListener("click", function () { load(b.dataset.range); });
  });
  load("1d");
  explain();
})();
