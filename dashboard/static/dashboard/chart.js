/* A small SVG time-series chart for the server page, drawn here rather than by a library: the
   actual values, the forecast's P50 line over its P10-P90 band, the alert threshold and "now".
   Series are {start: ISO, step_seconds, values: [number|null]}; gaps (null) break the line. */
"use strict";
var ArgusChart = (function () {
  var NS = "http://www.w3.org/2000/svg", W = 640, H = 220, L = 44, R = 10, T = 10, B = 24;

  function times(series) {
    var t0 = Date.parse(series.start), step = series.step_seconds * 1000;
    return function (i) { return t0 + i * step; };
  }
  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (parent) parent.appendChild(e);
    return e;
  }
  function linePath(values, tOf, x, y) {
    var d = "", pen = false;
    values.forEach(function (v, i) {
      if (v == null) { pen = false; return; }
      d += (pen ? "L" : "M") + x(tOf(i)).toFixed(1) + " " + y(v).toFixed(1);
      pen = true;
    });
    return d;
  }
  function niceMax(v) {
    if (!(v > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v))), m = v / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }

  /* Draws into container; metric: {label, actual, forecast?: {start, step_seconds, p10, p50, p90}, threshold?} */
  function draw(container, metric) {
    var actual = metric.actual, fc = metric.forecast;
    var tA = times(actual), tF = fc ? times(fc) : null;
    var t0 = tA(0), t1 = fc ? tF(fc.p50.length - 1) : tA(actual.values.length);
    var all = actual.values.filter(function (v) { return v != null; });
    if (fc) all = all.concat(fc.p90, fc.p50);
    if (metric.threshold != null) all.push(metric.threshold);
    var ymax = niceMax(Math.max.apply(null, all.concat([0])) * 1.05);
    var x = function (t) { return L + (t - t0) / (t1 - t0 || 1) * (W - L - R); };
    var y = function (v) { return T + (1 - v / ymax) * (H - T - B); };
    var svg = el("svg", {viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": metric.label + " chart"});
    for (var k = 0; k <= 4; k++) {
      var v = ymax * k / 4;
      el("line", {x1: L, x2: W - R, y1: y(v), y2: y(v), "class": "grid"}, svg);
      el("text", {x: L - 4, y: y(v) + 3, "text-anchor": "end", "class": "axis"}, svg).textContent = +v.toFixed(2);
    }
    var span = t1 - t0, every = span > 20 * 864e5 ? 7 * 864e5 : span > 3 * 864e5 ? 864e5 : 4 * 36e5;
    for (var t = Math.ceil(t0 / every) * every; t <= t1; t += every) {
      var d = new Date(t), label = every >= 864e5 ? d.toISOString().slice(5, 10) : d.toISOString().slice(11, 16);
      el("text", {x: x(t), y: H - 8, "text-anchor": "middle", "class": "axis"}, svg).textContent = label;
    }
    if (fc) {
      var band = "";
      fc.p90.forEach(function (v, i) { band += (i ? "L" : "M") + x(tF(i)).toFixed(1) + " " + y(v).toFixed(1); });
      for (var i = fc.p10.length - 1; i >= 0; i--) band += "L" + x(tF(i)).toFixed(1) + " " + y(fc.p10[i]).toFixed(1);
      el("path", {d: band + "Z", "class": "band"}, svg);
      el("path", {d: linePath(fc.p50, tF, x, y), "class": "p50"}, svg);
      var now = x(tF(0));
      el("line", {x1: now, x2: now, y1: T, y2: H - B, "class": "now"}, svg);
    }
    el("path", {d: linePath(actual.values, tA, x, y), "class": "actual"}, svg);
    if (metric.threshold != null) {
      var ty = y(metric.threshold);
      el("line", {x1: L, x2: W - R, y1: ty, y2: ty, "class": "threshold"}, svg);
      el("text", {x: W - R - 2, y: ty - 3, "text-anchor": "end", "class": "axis"}, svg).textContent = "threshold " + metric.threshold;
    }
    container.appendChild(svg);
    return svg;
  }
  return {draw: draw};
})();
