"""Incident benchmark: does Argus warn before simulated incidents breach, and how often is a
warning followed by a real breach? Against a baseline that alerts on a linear-trend
extrapolation (least squares over the last 2 hours), scored by the same rules.

  .venv/bin/python bench/incidents.py [--servers 45] [--days 7] [--seed 4242] [--every 6]

Replays a held-out simulated fleet (a seed not used in training) through the same code the
workers run: every `--every` slots (default 30 minutes) each server's window (ARGUS_WINDOW_SLOTS)
goes through the model and the blend with its own history (inference.seasonal, its state kept
from replay to replay), the trend rules and inference.scoring. An alert is a (server, metric) at warning or
worse. A breach is the incident's metric reaching Argus's threshold for the server's profile.
  recall     incidents whose metric was alerted on the incident's server between its onset
             and 30 minutes before its breach (all kinds, connection leaks included: their
             CLOSE_WAIT count is scored on its fitted line), also per kind
  precision  alert episodes (a run of consecutive alerting replay times per server and metric)
             followed within 8 hours by that metric reaching the server's threshold (any
             breach, labelled incident or not: a host running hot is breaching too)
  lead time  breach minus the first qualifying alert, median over detected incidents
The baseline is also shown alerting only when its line crosses within 4, 2 and 1 hours, which
spends fewer alerts: recall at a comparable alert budget."""
import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "argus_project.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-" + os.urandom(30).hex())  # a throwaway installation

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from feeds.schema import CLOSE_WAIT_METRICS, METRICS, SLOT_SECONDS, profile_of  # noqa: E402
from inference import seasonal  # noqa: E402
from inference.model.features import TARGETS, target_array  # noqa: E402
from inference.model.spec import HORIZON, MAX_ENCODER  # noqa: E402
from inference.model.storage import load_forecaster  # noqa: E402
from inference.scoring import score_server, threshold  # noqa: E402
from inference.seasonal import SeasonalState  # noqa: E402
from inference.series_io import records_to_series  # noqa: E402
from inference.simulator import incident_metric, simulate_fleet  # noqa: E402
from inference.trend import connection_lines, fitted_lines, raise_for_trends  # noqa: E402

WINDOW = MAX_ENCODER
TREND_POINTS = 24  # 2 hours


def least_squares_lines(history):
    """history [n, T, k] -> [n, 96, k]: the least-squares line over the last 2 hours, extended
    8 hours, whatever its shape (NaN where the 2 hours have a gap)."""
    return np.stack([fitted_lines(history[:, :, j], HORIZON, TREND_POINTS, min_r2=0.0,
                                  min_rise=-np.inf, reach=HORIZON, cap=np.inf)[0]
                     for j in range(history.shape[2])], axis=-1)


def baseline(window):
    """The linear-trend baseline for every scored metric: forecasts [n, 96, targets, 3] with
    P10 = P50 = P90 (no uncertainty band), and the same lines for the CLOSE_WAIT counts."""
    forecasts = np.repeat(least_squares_lines(target_array(window))[..., None], 3, axis=-1)
    counts = np.stack([observed_metric(window, m) for m in CLOSE_WAIT_METRICS], axis=-1)
    lines = least_squares_lines(counts)
    return forecasts, {m: (counts[:, -1, j], lines[:, :, j]) for j, m in enumerate(CLOSE_WAIT_METRICS)}


def observed_metric(values, metric):
    """[n, T] of a scored metric (a target or a CLOSE_WAIT count) from raw metrics [n, T, 14]."""
    if metric in TARGETS:
        return target_array(values)[..., TARGETS.index(metric)]
    return values[..., METRICS.index(metric)]


BASELINE_HORIZONS = (4, 2, 1)  # hours: the baseline with a shorter reach, for fewer alerts


def alerts_at(names, current, forecasts, lines):
    """{(server, metric): minutes to the breach} for every metric at warning or worse."""
    out = {}
    for i, name in enumerate(names):
        server_lines = {m: (last[i], line[i]) for m, (last, line) in lines.items()}
        score = score_server(name, profile_of(name), current[i], forecasts[i], lines=server_lines)
        out |= {(name, t): m["minutes_to_issue"] for t, m in score.metrics.items() if m["risk"] >= 59.5}
    return out


def within(log, hours):
    """The alerts of `log` whose breach is at most `hours` ahead."""
    return {k: {key for key, minutes in alerts.items() if minutes <= hours * 60} for k, alerts in log.items()}


def relabel(incidents, records):
    """Breach times by Argus's own thresholds (docs/risk_scoring.md: per profile), not the
    simulator's: the first slot from the onset at which the metric reaches the server's
    threshold, or NaT if it never does."""
    incidents = incidents.copy()
    by_server = {name: frame.set_index("timestamp") for name, frame in records.groupby("server_name")}
    for i, inc in incidents.iterrows():
        frame = by_server[inc["server_name"]].loc[inc["onset"]:]
        limit = threshold(profile_of(inc["server_name"]), inc["metric"])
        hits = frame.index[incident_metric(frame, inc["metric"]) >= limit]
        incidents.loc[i, ["breach_time", "threshold"]] = (hits[0] if len(hits) else pd.NaT), limit
    return incidents


def evaluate(alert_log, incidents, times, actual, index):
    """alert_log: {slot: the (server, metric) pairs alerting}; actual: {metric: [n, T]} for
    every scored metric; index: server name -> row of actual."""
    leads, found = [], {}
    relevant = incidents[incidents["breach_time"].notna()]
    # Only incidents that breach at least 30 minutes after the first replay can be warned of.
    first_replay = times[min(alert_log)]
    relevant = relevant[relevant["breach_time"] >= first_replay + pd.Timedelta(minutes=30)]
    for _, inc in relevant.iterrows():
        hits = [times[k] for k, alerts in alert_log.items()
                if inc["onset"] <= times[k] <= inc["breach_time"] - pd.Timedelta(minutes=30)
                and (inc["server_name"], inc["metric"]) in alerts]
        found.setdefault(inc["kind"], []).append(bool(hits))
        if hits:
            leads.append((inc["breach_time"] - min(hits)).total_seconds() / 60)
    episodes, true = 0, 0
    previous = set()
    for k in sorted(alert_log):
        for server, metric in set(alert_log[k]) - previous:  # an episode starts
            episodes += 1
            limit = threshold(profile_of(server), metric)
            true += bool((actual[metric][index[server], k:k + HORIZON + 1] >= limit).any())
        previous = set(alert_log[k])
    return {"incidents": len(relevant), "recall": len(leads) / max(1, len(relevant)),
            "precision": true / max(1, episodes), "alert_episodes": episodes,
            "median_lead_minutes": float(np.median(leads)) if leads else float("nan"),
            "by_kind": {kind: f"{sum(hits)}/{len(hits)}" for kind, hits in sorted(found.items())}}


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
    forecaster = load_forecaster(settings.ARGUS_MODEL_DIR, device="cpu")
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

    actual = {m: observed_metric(values, m) for m in TARGETS + CLOSE_WAIT_METRICS}
    model_log, trend_log = {}, {}
    started = time.perf_counter()
    stored = max(settings.ARGUS_WINDOW_SLOTS, WINDOW)  # what the workers read per server
    states = [SeasonalState.new() for _ in names]  # kept across replays, as the workers keep them
    for t in range(WINDOW - 1, values.shape[1] - 1, args.every):
        window = values[:, max(0, t - stored + 1):t + 1]
        window = np.concatenate([np.full((len(names), stored - window.shape[1], len(METRICS)), np.nan,
                                         np.float32), window], axis=1)
        day = window[:, -WINDOW:]  # the trend rules and the baseline read the last day
        current = target_array(window[:, -1])
        end_slots = np.full(len(names), end0 // SLOT_SECONDS + t, dtype=np.int64)
        forecasts = raise_for_trends(seasonal.forecast(forecaster, window, end_slots, profiles, states),
                                     target_array(day))
        model_log[t] = alerts_at(names, current, forecasts, connection_lines(day, HORIZON))
        trend_log[t] = alerts_at(names, current, *baseline(day))
    elapsed = time.perf_counter() - started

    kinds = incidents.groupby("kind").size().to_dict()
    print(f"Held-out fleet: {args.servers} servers x {args.days:g} days, seed {args.seed}; incidents {kinds}; "
          f"replayed every {args.every * 5} minutes ({len(model_log)} times, {elapsed:.0f} s); model {forecaster.version}\n")
    print(f"{'method':<28} {'recall':>7} {'precision':>10} {'median lead min':>16} {'alert episodes':>15}"
          "   detected by kind")
    logs = [("Argus (served forecast)", model_log), ("linear trend, last 2 h", trend_log)]
    logs += [(f"  same, crossing within {h} h", within(trend_log, h)) for h in BASELINE_HORIZONS]
    for label, log in logs:
        r = evaluate(log, incidents, times, actual, {n: i for i, n in enumerate(names)})
        print(f"{label:<28} {r['recall']:>7.2f} {r['precision']:>10.2f} {r['median_lead_minutes']:>16.0f} "
              f"{r['alert_episodes']:>15}   {r['by_kind']}")
    print(f"\n(recall over the {r['incidents']} incidents that breach at least 30 minutes after the first replay)")


if __name__ == "__main__":
    main()
