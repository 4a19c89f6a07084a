"""Exhaustion trends: the model's forecast, raised where a slowly exhausted resource is
climbing steadily, and the fitted lines that stand in for a forecast of connection counts.

Memory and disk have little daily rhythm; when either has risen along a straight line for
the last four hours it is most often leaking or filling, and the usual monitoring rule
(Prometheus' predict_linear) is to extend that line. The forecasting model learns mostly
from normal operation and pulls such climbs back towards the window's level, so for these
metrics the forecast follows the fitted line wherever the line is higher. Metrics with a daily
rhythm (CPU, I/O wait, load) are left to the model: their morning climbs are straight too.

CLOSE_WAIT counts are model inputs, not targets. A connection leak (sockets the application
never closes) grows them steadily for hours, so they are judged by their own fitted line."""
import numpy as np

from feeds.schema import METRICS

from .features import TARGETS

TREND_TARGETS = ("mem_used_pct", "disk_usage_pct")
FIT_STEPS = 48  # four hours of 5-minute points
MIN_R2 = 0.9  # how straight the climb must be
REACH_STEPS = 48  # the line is trusted four hours ahead, no further
MIN_RISE = 2.0  # percentage points over the fit window, so flat noise never counts

LEAK_METRICS = ("back_close_wait", "front_close_wait")
LEAK_FIT_STEPS = 24  # two hours: leaks build over a few hours, not a day
LEAK_MIN_R2 = 0.8  # counts are Poisson-noisy around the line
LEAK_MIN_RISE = 50.0  # sockets over the fit window; traffic alone moves them by a few dozen


def fitted_lines(history: np.ndarray, horizon: int, fit_steps=FIT_STEPS, min_r2=MIN_R2,
                 min_rise=MIN_RISE, reach=REACH_STEPS, cap=100.0):
    """history [n, T] (NaN = missing). Returns (lines [n, horizon] extending the least-squares
    fit of the last fit_steps points up to `reach` steps ahead, flat beyond and at most `cap`,
    NaN where a point of the fit is missing; steady [n] bool: a complete, straight enough, big
    enough climb)."""
    recent = history[:, -fit_steps:]
    ok = np.isfinite(recent).all(axis=1)
    x = np.arange(fit_steps) - (fit_steps - 1) / 2
    mean = recent.mean(axis=1, keepdims=True)
    slope = ((recent - mean) * x).sum(axis=1) / (x ** 2).sum()
    residual = recent - mean - slope[:, None] * x
    total = ((recent - mean) ** 2).sum(axis=1)
    r2 = np.where(total > 0, 1 - (residual ** 2).sum(axis=1) / np.where(total > 0, total, 1), 0.0)
    steady = ok & (slope * (fit_steps - 1) >= min_rise) & (r2 >= min_r2)
    ahead = (fit_steps - 1) / 2 + np.arange(1, horizon + 1)
    ahead = np.minimum(ahead, (fit_steps - 1) / 2 + reach)  # flat beyond the reach
    lines = np.minimum(mean + slope[:, None] * ahead, cap)
    return lines, steady


def connection_lines(values: np.ndarray, horizon: int) -> dict:
    """values: raw metrics [n, T, 14] (NaN = missing). For each CLOSE_WAIT metric, (last value
    [n], lines [n, horizon]): the fitted line where the count climbs steadily, extended over the
    whole horizon (a leak does not stop by itself), else flat at the last value."""
    out = {}
    for metric in LEAK_METRICS:
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
    copy where, for steadily climbing memory and disk, every quantile is lifted by how far
    the fitted line runs above the model's median."""
    out = forecasts.copy()
    median = out.shape[-1] // 2
    for target in TREND_TARGETS:
        t = TARGETS.index(target)
        lines, steady = fitted_lines(target_history[:, :, t], out.shape[1])
        lift = np.where(steady[:, None], np.maximum(lines - out[:, :, t, median], 0.0), 0.0)
        out[:, :, t, :] += lift[:, :, None]
    return out
