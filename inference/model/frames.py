"""What the training, serving and reference paths share: which slots of a server's window the
model reads (the history mask) and the long frame pytorch-forecasting's datasets are built from."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from feeds.schema import SLOT_SECONDS

from .features import KNOWN, OBSERVED, TARGETS, fill_gaps, metric_features, slot_times, time_features
from .spec import MAX_ENCODER, MIN_HISTORY, SEASONAL_LAG


@dataclass
class History:
    """The model's view of servers' windows values [n, T, 14] (last index = newest slot).

    The network reads each server from its first slot with data in its last MAX_ENCODER slots
    to its newest slot; a server with fewer than MIN_HISTORY such slots gets no forecast."""

    window: np.ndarray  # [n, W, 14], W = min(T, MAX_ENCODER)
    has: np.ndarray  # bool [n, W]: the slot holds data
    ok: np.ndarray  # bool [n]: enough history for a forecast
    first: np.ndarray  # int [n]: index in `window` of the first slot with data
    lengths: np.ndarray  # int [n]: encoder length, from `first` to the newest slot
    values: np.ndarray  # [n, T, 14]: everything given, which the lagged inputs read


def history(values: np.ndarray, max_encoder: int = MAX_ENCODER, min_history: int = MIN_HISTORY) -> History:
    values = np.asarray(values)
    window = values[:, -max_encoder:, :]
    has = np.isfinite(window).any(axis=2)
    first = np.argmax(has, axis=1)
    return History(window, has, has.sum(axis=1) >= min_history, first, window.shape[1] - first, values)


def yesterday_rows(values: np.ndarray, starts: np.ndarray, lag: int = SEASONAL_LAG) -> np.ndarray:
    """Raw rows [n, lag, 14] of the `lag` slots before each encoder, which its lagged inputs
    read: values [n, T, 14], encoders starting at index starts [n] of values.

    Filled along time like the encoder (fill_gaps). A server with less history than that reads
    its own first day in place of the day before it (a slot before its first data reads the
    slot a day later, or its newest one): nothing is invented, and a young server's "yesterday"
    is its own rhythm rather than a flat line."""
    values = np.asarray(values, dtype=np.float32)
    T = values.shape[1]
    filled = fill_gaps(values)
    has = np.isfinite(values).any(axis=2)
    first_data = np.argmax(has, axis=1)[:, None]
    j = np.asarray(starts)[:, None] - lag + np.arange(lag)[None, :]  # absolute slots wanted
    src = np.where(j >= first_data, j, np.minimum(j + lag, T - 1))
    return np.take_along_axis(filled, src[:, :, None], axis=1)


def series_frame(name: str, profile: str, values: np.ndarray, end_time: int, time_idx_start: int = 0) -> pd.DataFrame:
    """One series as TimeSeriesDataSet rows: gaps filled, every target, input and time feature.
    values [T, 14] on the 5-minute grid, its last slot at end_time (epoch seconds)."""
    filled = fill_gaps(values[None])[0]
    feats = metric_features(filled)
    feats.update(time_features(slot_times(end_time, len(filled))))
    frame = pd.DataFrame({k: feats[k].astype(np.float32) for k in TARGETS + OBSERVED + KNOWN})
    frame.insert(0, "profile", str(profile))
    frame.insert(0, "time_idx", np.arange(time_idx_start, time_idx_start + len(filled), dtype=np.int64))
    frame.insert(0, "series", str(name))
    return frame


def feature_frame(series) -> pd.DataFrame:
    """Training frame of series (objects with name, profile, values [T, 14], end_time).

    All series are aligned so that they end on the same time_idx; time_idx only orders rows and
    places the time-based validation cut, it is not a model input."""
    t_max = max(len(s.values) for s in series)
    frame = pd.concat([series_frame(s.name, s.profile, s.values, s.end_time, t_max - len(s.values))
                       for s in series], ignore_index=True)
    frame["series"] = frame["series"].astype(str)
    frame["profile"] = frame["profile"].astype(str)
    return frame


def prediction_frame(values, end_times, profiles, horizon: int, lag: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The frame pytorch-forecasting's predict() needs for the servers with enough history: each
    server's yesterday_rows, its window (from its first slot with data) and `horizon`
    placeholder future rows (lag: the model's, 0 for one without lagged inputs).
    Series are named server<i> after their row in values. Returns (frame, those rows)."""
    h = history(np.asarray(values, dtype=np.float32))
    starts = h.values.shape[1] - h.lengths
    yesterday = yesterday_rows(h.values, starts, lag)
    parts = []
    for i in np.flatnonzero(h.ok):
        encoder = fill_gaps(h.window[i:i + 1, h.first[i]:])[0]
        # the dataset computes lagged inputs by shifting rows, then drops the first `lag` rows
        rows = np.concatenate([yesterday[i], encoder, np.repeat(encoder[-1:], horizon, axis=0)])
        end = int(end_times[i]) + SLOT_SECONDS * horizon
        parts.append(series_frame(f"server{i}", profiles[i], rows, end))
    return pd.concat(parts, ignore_index=True), np.flatnonzero(h.ok)
