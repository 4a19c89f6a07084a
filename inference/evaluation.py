"""Rolling-origin evaluation of a Forecaster against simple baselines (numpy only).

Protocol (issue 3): after the first 24 h of a series, an origin every 24 h; at each origin the
model sees at most the last day (288 slots) and forecasts 96. Per series and target, MAE of the model's
P50 over all origins is compared with the MAE of
- seasonal naive (the value one day, 288 slots, earlier),
- persistence (the last observed value),
- linear trend (least squares over the last 2 h, 24 slots, extrapolated).
relative_mase is the geometric mean over series of model MAE / seasonal-naive MAE (likewise against
the other baselines). wql is the weighted quantile loss (mean over P10/P50/P90 of
2 * sum(pinball) / sum(|y|)) averaged over series; coverage_80 the share of actuals inside
[P10, P90], pooled over all forecast points.
"""
from __future__ import annotations

import math

import numpy as np

from feeds.schema import SLOT_SECONDS, SLOTS_PER_DAY

from .model.features import TARGETS, target_array

SEASON = SLOTS_PER_DAY
LINEAR_WINDOW = 24
EPS = 1e-9


def origins(T: int, horizon: int, first: int = SEASON, every: int = SEASON) -> list[int]:
    return list(range(first, T - horizon + 1, every))


def _last_finite(y: np.ndarray) -> float:
    ok = np.flatnonzero(np.isfinite(y))
    return float(y[ok[-1]]) if len(ok) else np.nan


def _linear(y: np.ndarray, horizon: int) -> np.ndarray:
    x = np.arange(len(y), dtype=np.float64)
    ok = np.isfinite(y)
    if ok.sum() < 2:
        return np.full(horizon, _last_finite(y))
    slope, intercept = np.polyfit(x[ok], y[ok], 1)
    return intercept + slope * (len(y) - 1 + np.arange(1, horizon + 1))


def evaluate(forecaster, series: list[dict], chunk_size: int = 128) -> dict:
    """series: dicts with name, profile, end_time, values [T, 14] and optionally eval_targets
    (the targets that are real for this series; default all six)."""
    H = forecaster.horizon
    qs = list(forecaster.quantiles)
    lo, mid, hi = qs.index(0.1), qs.index(0.5), qs.index(0.9)
    windows, ends, profiles, jobs = [], [], [], []
    for si, s in enumerate(series):
        values = np.asarray(s["values"], dtype=np.float32)
        T = len(values)
        for t0 in origins(T, H):
            w = values[max(0, t0 - forecaster.max_encoder):t0]
            if len(w) < forecaster.max_encoder:
                pad = np.full((forecaster.max_encoder - len(w), values.shape[1]), np.nan, np.float32)
                w = np.concatenate([pad, w])
            windows.append(w)
            ends.append(int(s["end_time"]) - SLOT_SECONDS * (T - t0))
            profiles.append(s["profile"])
            jobs.append((si, t0))
    if not jobs:
        raise ValueError("no series is long enough for one origin (24 h + 8 h)")
    preds = forecaster.predict(np.stack(windows), np.array(ends), profiles, chunk_size=chunk_size)

    per_pair = {}
    origins_used = 0
    for (si, t0), pred in zip(jobs, preds):
        s = series[si]
        if not np.isfinite(pred).all():
            continue  # insufficient history at this origin: skipped for every method
        origins_used += 1
        y_all = target_array(np.asarray(s["values"], dtype=np.float32))
        for ti, target in enumerate(forecaster.targets):
            if target not in s.get("eval_targets", TARGETS):
                continue
            y = y_all[t0:t0 + H, ti]
            ok = np.isfinite(y)
            if not ok.any():
                continue
            hist = y_all[:t0, ti]
            snaive = y_all[t0 - SEASON:t0 - SEASON + H, ti]
            persist = np.full(H, _last_finite(hist))
            linear = _linear(hist[-LINEAR_WINDOW:], H)
            acc = per_pair.setdefault((si, target), {
                "abs": {"model": 0.0, "seasonal_naive": 0.0, "persistence": 0.0, "linear": 0.0},
                "n": 0, "pinball": np.zeros(len(qs)), "abs_y": 0.0, "inside": 0,
            })
            q = pred[:, ti, :]
            for key, f in (("model", q[:, mid]), ("seasonal_naive", snaive),
                           ("persistence", persist), ("linear", linear)):
                f = np.where(np.isfinite(f), f, persist)  # a baseline with a gap falls back
                acc["abs"][key] += float(np.abs(f - y)[ok].sum())
            acc["n"] += int(ok.sum())
            diff = y[ok, None] - q[ok]
            tau = np.array(qs)[None, :]
            acc["pinball"] += np.maximum(tau * diff, (tau - 1) * diff).sum(axis=0)
            acc["abs_y"] += float(np.abs(y[ok]).sum())
            acc["inside"] += int(((y[ok] >= q[ok, lo]) & (y[ok] <= q[ok, hi])).sum())

    rows = []
    for (si, target), acc in per_pair.items():
        mae = {k: v / acc["n"] for k, v in acc["abs"].items()}
        row = {"series": series[si]["name"], "target": target, "points": acc["n"],
               **{f"mae_{k}": v for k, v in mae.items()},
               "wql": float(np.mean(2 * acc["pinball"] / max(acc["abs_y"], EPS))),
               "coverage_80": acc["inside"] / acc["n"], "inside": acc["inside"]}
        # A flat series (every baseline exact) says nothing about skill: reported, not scored.
        row["scored"] = all(mae[k] > EPS for k in ("seasonal_naive", "persistence", "linear"))
        rows.append(row)
    scored = [r for r in rows if r["scored"]]

    def gmean(key_model, key_base, subset):
        vals = [max(r[key_model], EPS) / r[key_base] for r in subset]
        return float(math.exp(np.mean(np.log(vals)))) if vals else float("nan")

    result = {
        "relative_mase": gmean("mae_model", "mae_seasonal_naive", scored),
        "relative_mase_vs_persistence": gmean("mae_model", "mae_persistence", scored),
        "relative_mase_vs_linear": gmean("mae_model", "mae_linear", scored),
        "persistence_vs_seasonal_naive": gmean("mae_persistence", "mae_seasonal_naive", scored),
        "linear_vs_seasonal_naive": gmean("mae_linear", "mae_seasonal_naive", scored),
        "wql": float(np.mean([r["wql"] for r in scored])) if scored else float("nan"),
        "coverage_80": (sum(r["inside"] for r in scored) / max(1, sum(r["points"] for r in scored))),
        "n_series": len(scored),
        "n_unscored_flat_series": len(rows) - len(scored),
        "n_origins": origins_used,
    }
    by_target = {}
    for t in TARGETS:
        sub = [r for r in scored if r["target"] == t]
        if sub:
            by_target[t] = {
                "n_series": len(sub),
                "relative_mase": gmean("mae_model", "mae_seasonal_naive", sub),
                "vs_persistence": gmean("mae_model", "mae_persistence", sub),
                "vs_linear": gmean("mae_model", "mae_linear", sub),
                "coverage_80": float(np.mean([r["coverage_80"] for r in sub])),
            }
    return {"summary": result, "by_target": by_target, "rows": rows}
