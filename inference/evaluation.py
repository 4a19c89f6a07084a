"""Rolling-origin evaluation of a Forecaster against the baselines users would pick instead.

Protocol: after the first 24 h of a series, an origin every 24 h; at each origin the model sees
at most its window (the last day) and forecasts 96 steps. Per series and target, MAE of the
model's P50 over all origins is compared with the MAE of each baseline (inference/baselines.py):
seasonal naive (the value a day earlier), level-adjusted seasonal naive, persistence, linear
trend over the last 2 h, and AutoETS when asked (slow: seconds per origin). A baseline without a
value at a step (seasonal naive in the first day) falls back to persistence there.

relative_mase is the geometric mean over series of model MAE / seasonal-naive MAE; likewise
against the other baselines, and each baseline against seasonal naive. worst_vs_seasonal_naive
is the largest single series' ratio. wql is the weighted quantile loss (mean over P10/P50/P90 of
2 * sum(pinball) / sum(|y|)) averaged over series; coverage_80 the share of actuals inside
[P10, P90], pooled over all forecast points. Each series is put in a class by its own history
(series_class) and the summary is repeated per class.
"""
from __future__ import annotations

import math

import numpy as np

from feeds.schema import SLOT_SECONDS

from . import baselines, seasonal
from .baselines import SEASON
from .model.features import TARGETS, target_array

EPS = 1e-9
CLASSES = ("flat", "trending", "smooth daily", "noisy daily", "irregular")


def origins(T: int, horizon: int, first: int = SEASON, every: int = SEASON) -> list[int]:
    return list(range(first, T - horizon + 1, every))


def series_class(y: np.ndarray) -> str:
    """flat (moves less than a point), trending (a line explains half its variance), daily (a
    day-ago correlation of 0.5 or more; smooth when neighbours correlate 0.8 or more, else
    noisy) or irregular."""
    y = y[np.isfinite(y)].astype(np.float64)
    if len(y) < 2 * SEASON or y.std() < 1.0:
        return "flat"
    x = np.arange(len(y))
    r_line = np.corrcoef(x, y)[0, 1]
    if r_line ** 2 >= 0.5:
        return "trending"

    def lag_corr(k):
        with np.errstate(invalid="ignore", divide="ignore"):  # a constant stretch: NaN, not daily
            return float(np.corrcoef(y[:-k], y[k:])[0, 1])

    if lag_corr(SEASON) >= 0.5:
        return "smooth daily" if lag_corr(1) >= 0.8 else "noisy daily"
    return "irregular"


def evaluate(forecaster, series: list[dict], chunk_size: int = 128, autoets: bool = False,
             origin_days: int = 1, window: int | None = None, held_out: int | None = None) -> dict:
    """series: dicts with name, profile, end_time, values [T, 14] and optionally eval_targets
    (the targets that are real for this series; default all six). origin_days > 1 keeps every
    such day's origin only (a sample, for the slow AutoETS). window: the slots a worker reads
    per server (ARGUS_WINDOW_SLOTS; default what the blend and the model can use). held_out:
    origins only within each series' last held_out slots, one every horizon (8 h): a backtest on
    recent days a model was not trained on (registry.backtest)."""
    H = forecaster.horizon
    qs = list(forecaster.quantiles)
    lo, mid, hi = qs.index(0.1), qs.index(0.5), qs.index(0.9)
    methods = dict(baselines.CHEAP, **({"autoets": baselines.autoets} if autoets else {}))
    def series_origins(T):
        if held_out is None:
            return origins(T, H, every=SEASON * origin_days)
        return origins(T, H, first=max(SEASON, T - held_out), every=H)

    jobs = [(si, t0) for si, s in enumerate(series) for t0 in series_origins(len(s["values"]))]
    if not jobs:
        raise ValueError("no series is long enough for one origin (24 h + 8 h)")
    served, model = served_forecasts(forecaster, series, jobs, chunk_size,
                                     window or seasonal.window_slots(forecaster))
    targets = [target_array(np.asarray(s["values"], dtype=np.float32)) for s in series]

    per_pair = {}
    origins_used = 0
    for (si, t0), pred, raw in zip(jobs, served, model):
        if not np.isfinite(pred).all():
            continue  # insufficient history at this origin: skipped for every method
        origins_used += 1
        for ti, target in enumerate(forecaster.targets):
            if target not in series[si].get("eval_targets", TARGETS):
                continue
            y = targets[si][t0:t0 + H, ti]
            ok = np.isfinite(y)
            if not ok.any():
                continue
            hist = targets[si][:t0, ti]
            acc = per_pair.setdefault((si, target), {
                "abs": dict.fromkeys(["model", "tft", *methods], 0.0),
                "n": 0, "pinball": np.zeros(len(qs)), "abs_y": 0.0, "inside": 0,
            })
            q = pred[:, ti, :]
            fallback = baselines.persistence(hist, H)
            forecasts = {"model": q[:, mid], "tft": raw[:, ti, mid], **{k: f(hist, H) for k, f in methods.items()}}
            for key, f in forecasts.items():
                f = np.where(np.isfinite(f), f, fallback)
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
               "class": series_class(targets[si][:, TARGETS.index(target)]),
               **{f"mae_{k}": v for k, v in mae.items()},
               "wql": float(np.mean(2 * acc["pinball"] / max(acc["abs_y"], EPS))),
               "coverage_80": acc["inside"] / acc["n"], "inside": acc["inside"]}
        # A flat series (every baseline exact) says nothing about skill: reported, not scored.
        row["scored"] = all(mae[k] > EPS for k in ("seasonal_naive", "persistence", "linear"))
        rows.append(row)
    scored = [r for r in rows if r["scored"]]
    result = {**summarise(scored, methods), "n_unscored_flat_series": len(rows) - len(scored),
              "n_origins": origins_used}
    by_target = {t: summarise([r for r in scored if r["target"] == t], methods)
                 for t in TARGETS if any(r["target"] == t for r in scored)}
    by_class = {c: summarise([r for r in scored if r["class"] == c], methods)
                for c in CLASSES if any(r["class"] == c for r in scored)}
    return {"summary": result, "by_target": by_target, "by_class": by_class, "rows": rows}


def served_forecasts(forecaster, series, jobs, chunk_size, W):
    """(what Argus serves, the model's own forecast) [jobs, H, targets, quantiles] for each
    (series, origin) from windows of W slots: the served one through inference.seasonal with the
    state a server that has been running since the series began would have (its profile of
    every day before the window)."""
    windows, ends, profiles, states = [], [], [], []
    for si, t0 in jobs:
        s = series[si]
        values = np.asarray(s["values"], dtype=np.float32)
        window = values[max(0, t0 - W):t0]
        windows.append(np.concatenate([np.full((W - len(window), values.shape[1]), np.nan, np.float32), window]))
        end_slot = (int(s["end_time"]) - SLOT_SECONDS * (len(values) - t0)) // SLOT_SECONDS
        ends.append(end_slot)
        profiles.append(s["profile"])
        state = seasonal.SeasonalState.new()
        if t0 > W:
            before = target_array(values[:t0 - W])[:, seasonal.CYCLIC_INDEX]
            state.profile = seasonal.fold_profile(state.profile, before, end_slot - W - np.arange(t0 - W - 1, -1, -1))
            state.profile_slot = end_slot - W
        states.append(state)
    windows, ends = np.stack(windows), np.array(ends)
    served = seasonal.forecast(forecaster, windows, ends, profiles, states, chunk_size=chunk_size)
    return served, forecaster.predict(windows, ends * SLOT_SECONDS, profiles, chunk_size=chunk_size)


def gmean_ratio(rows, top: str, bottom: str) -> float:
    vals = [max(r[f"mae_{top}"], EPS) / max(r[f"mae_{bottom}"], EPS) for r in rows]
    return float(math.exp(np.mean(np.log(vals)))) if vals else float("nan")


def summarise(rows: list, methods) -> dict:
    """The figures of a set of scored rows (see the module docstring)."""
    others = ["tft", *(m for m in methods if m != "seasonal_naive")]
    return {
        "relative_mase": gmean_ratio(rows, "model", "seasonal_naive"),
        **{f"relative_mase_vs_{m}": gmean_ratio(rows, "model", m) for m in others},
        **{f"{m}_vs_seasonal_naive": gmean_ratio(rows, m, "seasonal_naive") for m in others},
        "worst_vs_seasonal_naive": max((r["mae_model"] / max(r["mae_seasonal_naive"], EPS) for r in rows),
                                       default=float("nan")),
        "wql": float(np.mean([r["wql"] for r in rows])) if rows else float("nan"),
        "coverage_80": sum(r["inside"] for r in rows) / max(1, sum(r["points"] for r in rows)),
        "n_series": len(rows),
    }
