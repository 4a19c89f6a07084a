"""Trends the forecasting model under-reads: its forecast is raised where a metric climbs
steadily towards exhaustion, and fitted lines stand in for a forecast of connection counts.

The model learns mostly from normal operation, where climbs turn back (a morning ramp, a
batch job), so it pulls every climb back towards the window's level. These climbs are
extended instead, the way the usual monitoring rule (Prometheus' predict_linear) does:
- memory, which has little daily rhythm: a straight climb over the last four hours is most
  often a leak; so is a very straight two-hour climb that has already passed anything the
  server used over the same hours yesterday by a wide margin (a fast leak; the nightly batch
  and the refill after a restart stay within yesterday's range);
- disk, which normally grows by a fraction of a point a day: a straight climb of two points
  within an hour is already a filling disk;
- CPU and I/O wait: a straight climb over the last half hour (or a rougher one over 45
  minutes, for CPU), already above anything the metric reached over the same two hours
  yesterday by a margin, is a runaway process or an I/O storm rather than the morning ramp or
  the nightly batch (those happened yesterday too). The line is trusted for two hours only: at
  that rate such climbs saturate within the hour or two, or turn back.
Load follows CPU and I/O wait; swap follows memory. Both are left to the model.

CLOSE_WAIT counts are model inputs, not targets. A connection leak (sockets the application
never closes) grows them steadily for hours, so they are judged by their own fitted line."""
from typing import NamedTuple

import numpy as np

from feeds.schema import CLOSE_WAIT_METRICS, METRICS

from .model.features import TARGETS


class TrendRule(NamedTuple):
    fit_steps: int  # points in the least-squares fit
    min_r2: float  # how straight the climb must be
    min_rise: float  # over the fit window, so flat noise never counts
    reach: int  # how many steps ahead the line is trusted (flat beyond)
    # If set, the last value must exceed the window's first `reach` points by this margin: a
    # full 24-hour window starts with the same time yesterday, so those are yesterday's values
    # for the hours ahead.
    above_yesterday: float | None = None


MEMORY_LEAK = TrendRule(fit_steps=48, min_r2=0.9, min_rise=2.0, reach=48)  # four hours each way
# two hours -> four hours, ten points past the same four hours yesterday
FAST_MEMORY_LEAK = TrendRule(fit_steps=24, min_r2=0.97, min_rise=6.0, reach=48, above_yesterday=10.0)
DISK_FILL = TrendRule(fit_steps=12, min_r2=0.9, min_rise=2.0, reach=48)  # one hour -> four hours
# half an hour (or a rougher 45 minutes) -> two hours, past the same two hours yesterday
RUNAWAY_CPU = TrendRule(fit_steps=6, min_r2=0.9, min_rise=3.0, reach=24, above_yesterday=5.0)
ROUGH_RUNAWAY_CPU = TrendRule(fit_steps=9, min_r2=0.8, min_rise=6.0, reach=24, above_yesterday=10.0)
IOWAIT_STORM = TrendRule(fit_steps=6, min_r2=0.85, min_rise=3.0, reach=24, above_yesterday=3.0)
# A metric's forecast is lifted by the highest line among its rules that hold.
TREND_RULES = {
    "mem_used_pct": (MEMORY_LEAK, FAST_MEMORY_LEAK),
    "disk_usage_pct": (DISK_FILL,),
    "cpu_pct": (RUNAWAY_CPU, ROUGH_RUNAWAY_CPU),
    "cpu_iowait_pct": (IOWAIT_STORM,),
}

LEAK_FIT_STEPS = 24  # two hours: leaks build over a few hours, not a day
LEAK_MIN_R2 = 0.8  # counts are Poisson-noisy around the line
LEAK_MIN_RISE = 50.0  # sockets over the fit window; traffic alone moves them by a few dozen


def fitted_lines(history: np.ndarray, horizon: int, fit_steps: int, min_r2: float,
                 min_rise: float, reach: int, above_yesterday=None, cap=100.0):
    """history [n, T] (NaN = missing). Returns (lines [n, horizon] extending the least-squares
    fit of the last fit_steps points up to `reach` steps ahead, flat beyond and at most `cap`,
    NaN where a point of the fit is missing; steady [n] bool: a complete, straight enough, big
    enough climb, and with above_yesterday, that far above the window's first `reach` points)."""
    recent = history[:, -fit_steps:]
    ok = np.isfinite(recent).all(axis=1)
    x = np.arange(fit_steps) - (fit_steps - 1) / 2
    mean = recent.mean(axis=1, keepdims=True)
    slope = ((recent - mean) * x).sum(axis=1) / (x ** 2).sum()
    residual = recent - mean - slope[:, None] * x
    total = ((recent - mean) ** 2).sum(axis=1)
    r2 = np.where(total > 0, 1 - (residual ** 2).sum(axis=1) / np.where(total > 0, total, 1), 0.0)
    steady = ok & (slope * (fit_steps - 1) >= min_rise) & (r2 >= min_r2)
    if above_yesterday is not None:  # where yesterday is missing (a new server), the climb decides
        yesterday = np.nan_to_num(history[:, :reach], nan=-np.inf).max(axis=1)
        steady &= history[:, -1] > yesterday + above_yesterday
    ahead = (fit_steps - 1) / 2 + np.arange(1, horizon + 1)
    ahead = np.minimum(ahead, (fit_steps - 1) / 2 + reach)  # flat beyond the reach
    lines = np.minimum(mean + slope[:, None] * ahead, cap)
    return lines, steady


def connection_lines(values: np.ndarray, horizon: int) -> dict:
    """values: raw metrics [n, T, 14] (NaN = missing). For each CLOSE_WAIT metric, (last value
    [n], lines [n, horizon]): the fitted line where the count climbs steadily, extended over the
    whole horizon (a leak does not stop by itself), else flat at the last value."""
    out = {}
    for metric in CLOSE_WAIT_METRICS:
        history = values[:, :, METRICS.index(metric)]
        seen = np.isfinite(history)
        newest = history.shape[1] - 1 - np.argmax(seen[:, ::-1], axis=1)
        last = np.where(seen.any(axis=1), history[np.arange(len(history)), newest], 0.0)
        lines, steady = fitted_lines(history, horizon, LEAK_FIT_STEPS, LEAK_MIN_R2,
                                     LEAK_MIN_RISE, reach=horizon, cap=np.inf)
        out[metric] = (last, np.where(steady[:, None], lines, last[:, None]))
    return out


def raise_for_trends(forecasts: np.ndarray, target_history: np.ndarray) -> np.ndarray:
    """forecasts [n, horizon, targets, quantiles]; target_history [n, T, targets]. Returns a
    copy where, for each metric climbing as one of its TREND_RULES requires, every quantile is
    lifted by how far the highest such fitted line runs above the model's median."""
    out = forecasts.copy()
    median = out.shape[-1] // 2
    for target, rules in TREND_RULES.items():
        t = TARGETS.index(target)
        lift = np.zeros(out.shape[:2], dtype=out.dtype)
        for rule in rules:
            lines, steady = fitted_lines(target_history[:, :, t], out.shape[1], *rule)
            lift = np.maximum(lift, np.where(steady[:, None], lines - out[:, :, t, median], 0.0))
        out[:, :, t, :] += lift[:, :, None]
    return out
