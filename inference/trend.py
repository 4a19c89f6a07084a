"""Exhaustion trends: the model's forecast, raised where a slowly exhausted resource is
climbing steadily.

Memory and disk have little daily rhythm; when either has risen along a straight line for
the last four hours it is most often leaking or filling, and the usual monitoring rule
(Prometheus' predict_linear) is to extend that line. The forecasting model learns mostly
from normal operation and pulls such climbs back towards the window's level, so for these
metrics the forecast follows the fitted line wherever the line is higher. Metrics with a daily
rhythm (CPU, I/O wait, load) are left to the model: their morning climbs are straight too."""
import numpy as np

from .features import TARGETS

TREND_TARGETS = ("mem_used_pct", "disk_usage_pct")
FIT_STEPS = 48  # four hours of 5-minute points
MIN_R2 = 0.9  # how straight the climb must be
REACH_STEPS = 48  # the line is trusted four hours ahead, no further
MIN_RISE = 2.0  # percentage points over the fit window, so flat noise never counts


def fitted_lines(history: np.ndarray, horizon: int):
    """history [n, T] (NaN = missing). Returns (lines [n, horizon] extending the least-squares
    fit of the last FIT_STEPS points, steady [n] bool: a straight enough, big enough climb)."""
    recent = history[:, -FIT_STEPS:]
    ok = np.isfinite(recent).all(axis=1)
    recent = np.where(np.isfinite(recent), recent, 0.0)
    x = np.arange(FIT_STEPS) - (FIT_STEPS - 1) / 2
    mean = recent.mean(axis=1, keepdims=True)
    slope = ((recent - mean) * x).sum(axis=1) / (x ** 2).sum()
    residual = recent - mean - slope[:, None] * x
    total = ((recent - mean) ** 2).sum(axis=1)
    r2 = np.where(total > 0, 1 - (residual ** 2).sum(axis=1) / np.where(total > 0, total, 1), 0.0)
    steady = ok & (slope * (FIT_STEPS - 1) >= MIN_RISE) & (r2 >= MIN_R2)
    ahead = (FIT_STEPS - 1) / 2 + np.arange(1, horizon + 1)
    ahead = np.minimum(ahead, (FIT_STEPS - 1) / 2 + REACH_STEPS)  # flat beyond the reach
    lines = np.minimum(mean + slope[:, None] * ahead, 100.0)
    return lines, steady


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
