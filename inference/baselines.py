"""The forecasts a user would pick instead of Argus's model, for one series' history (numpy).

Each takes the history of one metric up to the forecast origin (natural units, oldest first,
NaN = missing) and returns `horizon` values. They are the yardsticks of the evaluation protocol
(inference/evaluation.py, docs/model.md); AutoETS is for evaluation only (statsforecast is not a
serving dependency, see requirements-eval.txt)."""
from __future__ import annotations

import numpy as np

from feeds.schema import SLOTS_PER_DAY

SEASON = SLOTS_PER_DAY
LINEAR_WINDOW = 24  # the linear trend's fit: the last two hours
LEVEL_WINDOW = 12  # the level shift compares the last hour with the same hour a day earlier
LEVEL_DECAY = 0.97  # per step: the shift fades over the first hours ahead
AUTOETS_DAYS = 7  # AutoETS is fitted on at most the last week


def last_finite(y: np.ndarray) -> float:
    ok = np.flatnonzero(np.isfinite(y))
    return float(y[ok[-1]]) if len(ok) else np.nan


def persistence(history: np.ndarray, horizon: int) -> np.ndarray:
    return np.full(horizon, last_finite(history))


def seasonal_naive(history: np.ndarray, horizon: int) -> np.ndarray:
    """The same time yesterday (NaN where there is no such point)."""
    out = np.full(horizon, np.nan)
    start = len(history) - SEASON
    if start >= 0:
        part = history[start:start + horizon]
        out[:len(part)] = part
    return out


def level_adjusted_seasonal_naive(history: np.ndarray, horizon: int) -> np.ndarray:
    """Seasonal naive shifted by how much the last hour differs from the same hour yesterday,
    the shift decaying by LEVEL_DECAY per step."""
    base = seasonal_naive(history, horizon)
    if len(history) < SEASON + LEVEL_WINDOW:
        return base
    with np.errstate(all="ignore"):
        now = np.nanmean(history[-LEVEL_WINDOW:])
        then = np.nanmean(history[-SEASON - LEVEL_WINDOW:-SEASON])
    shift = now - then if np.isfinite(now - then) else 0.0
    return base + shift * LEVEL_DECAY ** np.arange(1, horizon + 1)


def linear(history: np.ndarray, horizon: int) -> np.ndarray:
    """Least squares over the last LINEAR_WINDOW points, extrapolated."""
    y = history[-LINEAR_WINDOW:]
    x = np.arange(len(y), dtype=np.float64)
    ok = np.isfinite(y)
    if ok.sum() < 2:
        return persistence(history, horizon)
    slope, intercept = np.polyfit(x[ok], y[ok], 1)
    return intercept + slope * (len(y) - 1 + np.arange(1, horizon + 1))


def autoets(history: np.ndarray, horizon: int) -> np.ndarray:
    """statsforecast's AutoETS (season 288) on the last AUTOETS_DAYS days, gaps carried forward."""
    from statsforecast.models import AutoETS

    y = history[-AUTOETS_DAYS * SEASON:].astype(np.float64)
    ok = np.isfinite(y)
    if ok.sum() < 2 * LINEAR_WINDOW:
        return persistence(history, horizon)
    y = y[np.argmax(ok):]  # from the first point with data, then carry values forward
    idx = np.maximum.accumulate(np.where(np.isfinite(y), np.arange(len(y)), 0))
    return AutoETS(season_length=SEASON).fit(y[idx]).predict(h=horizon)["mean"]


CHEAP = {
    "seasonal_naive": seasonal_naive,
    "level_adjusted_seasonal_naive": level_adjusted_seasonal_naive,
    "persistence": persistence,
    "linear": linear,
}
