"""Incident benchmark: does Argus warn before simulated incidents breach, and how often is a
warning followed by a real breach? Against a baseline that alerts on a linear-trend
extrapolation (least squares over the last 2 hours), scored by the same rules.

  .venv/bin/python bench/incidents.py [--servers 45] [--days 7] [--seed 4242] [--every 6]

Replays a held-out simulated fleet (a seed not used in training) through the same code the
workers run: every `--every` slots (default 30 minutes) each server's last 24 hours go through
the model and inference.scoring. An alert is a (server, metric) at warning or worse. A breach
is the incident's metric reaching Argus's threshold for the server's profile.
  recall     incidents whose metric was alerted on the incident's server between its onset
             and 30 minutes before its breach (incidents on forecast metrics only; connection
             leaks are reported apart: CLOSE_WAIT is not forecast)
  precision  alert episodes (a run of consecutive alerting replay times per server and metric)
             followed within 8 hours by that metric reaching the server's threshold (any
             breach, labelled incident or not: a host running hot is breaching too)
  lead time  breach minus the first qualifying alert, median over detected incidents"""
import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "argus_project.settings")

import django  # noqa: E402

django.setup()

from feeds.schema import SLOT_SECONDS, profile_of  # noqa: E402
from inference.features import TARGETS, target_array  # noqa: E402
from inference.forecaster import load_forecaster  # noqa: E402
from inference.scoring import score_server, threshold  # noqa: E402
from inference.series_io import records_to_series  # noqa: E402
from inference.simulator import incident_metric, simulate_fleet  # noqa: E402
from inference.trend import raise_for_trends  # noqa: E402

FORECAST_METRIC = {"mem_used_pct": "mem_used_pct", "disk_usage_pct": "disk_usage_pct", "cpu_pct": "cpu_pct",
                   "cpu_iowait_pct": "cpu_iowait_pct"}
WINDOW, HORIZON = 288, 96
TREND_POINTS = 24  # 2 hours


def trend_forecast(window_targets):
    """[n, 96, targets, 3]: the least-squares line over the last 2 hours, extended 8 hours,
    as P10 = P50 = P90 (the baseline has no uncertainty band)."""
    recent = window_targets[:, -TREND_POINTS:, :]
    x = np.arange(TREND_POINTS) - (TREND_POINTS - 1) / 2
    slope = np.einsum("t,ntk->nk", x, recent - recent.mean(axis=1, keepdims=True)) / (x ** 2).sum()
    ahead = (TREND_POINTS - 1) / 2 + np.arange(1, HORIZON + 1)
    line = recent.mean(axis=1)[:, None, :] + slope[:, None, :] * ahead[None, :, None]
    return np.repeat(line[..., None], 3, axis=-1)


def alerts_at(names, current, forecasts):
    out = set()
    for i, name in enumerate(names):
        score = score_server(name, profile_of(name), current[i], forecasts[i])
        out |= {(name, t) for t, m in score.metrics.items() if m["risk"] >= 59.5}  # warning or worse
    return out


def relabel(incidents, records):
    """Breach times by Argus's own thresholds (docs/risk_scoring.md: per profile), not the
    simulator's: the first slot from the onset at which the metric reaches the server's
    threshold, or NaT if it never does. Connection leaks keep the simulator's label."""
    incidents = incidents.copy()
    by_server = {name: frame.set_index("timestamp") for name, frame in records.groupby("server_name")}
    for i, inc in incidents.iterrows():
        if inc["metric"] not in FORECAST_METRIC:
            continue
        frame = by_server[inc["server_name"]].loc[inc["onset"]:]
        limit = threshold(profile_of(inc["server_name"]), FORECAST_METRIC[inc["metric"]])
        hits = frame.index[incident_metric(frame, inc["metric"]) >= limit]
        incidents.loc[i, ["breach_time", "threshold"]] = (hits[0] if len(hits) else pd.NaT), limit
    return incidents


def evaluate(alert_log, incidents, times, actual, index):
    """alert_log: {slot: set of (server, metric)}; actual: targets [n, T, len(TARGETS)];
    index: server name -> row of actual."""
    detected, leads = 0, []
    relevant = incidents[incidents["metric"].isin(FORECAST_METRIC) & incidents["breach_time"].notna()]
    relevant = relevant[(relevant["breach_time"] > times[0] + pd.Timedelta(minutes=30))]
    for _, inc in relevant.iterrows():
        metric = FORECAST_METRIC[inc["metric"]]
        hits = [times[k] for k, alerts in alert_log.items()
                if inc["onset"] <= times[k] <= inc["breach_time"] - pd.Timedelta(minutes=30)
                and (inc["server_name"], metric) in alerts]
        if hits:
            detected += 1
            leads.append((inc["breach_time"] - min(hits)).total_seconds() / 60)
    episodes, true = 0, 0
    previous = set()
    for k in sorted(alert_log):
        for server, metric in alert_log[k] - previous:  # an episode starts
            episodes += 1
            i, m = index[server], TARGETS.index(metric)
            limit = threshold(profile_of(server), metric)
            true += bool((actual[i, k:k + HORIZON + 1, m] >= limit).any())
        previous = alert_log[k]
    return {"incidents": len(relevant), "recall": detected / max(1, len(relevant)),
            "precision": true / max(1, episodes), "alert_episodes": episodes,
            "median_lead_minutes": float(np.median(leads)) if leads else float("nan")}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", type=int, default=45)
    parser.add_argument("--days", type=float, default=7)
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("--every", type=int, default=6, help="replay every N slots")
    parser.add_argument("--incident-rate", type=float, default=0.15)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(2)
    forecaster = load_forecaster(os.environ.get("ARGUS_MODEL_DIR") or None, device="cpu")
    train_seed = ((forecaster.training or {}).get("simulated") or {}).get("seed")
    if train_seed == args.seed:
        sys.exit(f"seed {args.seed} trained this model; pick another")
    records, incidents = simulate_fleet(args.servers, args.days, args.seed, incident_rate=args.incident_rate)
    incidents = relabel(incidents, records)
    series = records_to_series(records)
    names = [s["name"] for s in series]
    values = np.stack([s["values"] for s in series])  # [n, T, 14]
    times = pd.date_range(records["timestamp"].min(), periods=values.shape[1], freq=f"{SLOT_SECONDS}s")
    end0 = series[0]["end_time"] - SLOT_SECONDS * (values.shape[1] - 1)
    profiles = [profile_of(n) for n in names]

    actual = target_array(values)
    model_log, trend_log = {}, {}
    started = time.perf_counter()
    for t in range(WINDOW - 1, values.shape[1] - 1, args.every):
        window = values[:, t - WINDOW + 1:t + 1]
        current = target_array(window[:, -1])
        ends = np.full(len(names), end0 + t * SLOT_SECONDS, dtype=np.int64)
        forecasts = raise_for_trends(forecaster.predict(window, ends, profiles), target_array(window))
        model_log[t] = alerts_at(names, current, forecasts)
        trend_log[t] = alerts_at(names, current, trend_forecast(target_array(window)))
    elapsed = time.perf_counter() - started

    kinds = incidents.groupby("kind").size().to_dict()
    print(f"Held-out fleet: {args.servers} servers x {args.days:g} days, seed {args.seed}; incidents {kinds}; "
          f"replayed every {args.every * 5} minutes ({len(model_log)} times, {elapsed:.0f} s); model {forecaster.version}\n")
    print(f"{'method':<28} {'recall':>7} {'precision':>10} {'median lead min':>16} {'alert episodes':>15}")
    for label, log in (("Argus (TFT + scoring)", model_log), ("linear trend, last 2 h", trend_log)):
        r = evaluate(log, incidents, times, actual, {n: i for i, n in enumerate(names)})
        print(f"{label:<28} {r['recall']:>7.2f} {r['precision']:>10.2f} {r['median_lead_minutes']:>16.0f} {r['alert_episodes']:>15}")
    print(f"\n(recall over {r['incidents']} incidents on forecast metrics; "
          f"{kinds.get('connection_leak', 0)} connection leaks not counted)")


if __name__ == "__main__":
    main()
