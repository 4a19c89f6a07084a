"""Feature derivation shared by training, serving and evaluation (numpy only, no torch, no Django).

The model reads the contract's 14 numeric metrics (feeds.schema.METRICS order) through the bounded
transforms below. Nothing here depends on a server's name: a server the model never saw is just
another window of numbers plus its profile.
"""
from __future__ import annotations

import numpy as np

from feeds.schema import METRICS, SLOT_SECONDS, UPTIME_CAP_DAYS, cpu_pct_from_idle

M = {name: i for i, name in enumerate(METRICS)}

# What the model forecasts, in natural units (cpu_pct: feeds.schema.cpu_pct_from_idle).
TARGETS = (
    "cpu_pct",
    "mem_used_pct",
    "cpu_iowait_pct",
    "swap_used_pct",
    "load_average",
    "disk_usage_pct",
)
# The targets' physical ranges (the feed guide's): forecasts are clipped to them, because the
# network's quantiles are offsets from a window's level and can run past 0 or 100.
TARGET_RANGES = {
    "cpu_pct": (0.0, 100.0),
    "mem_used_pct": (0.0, 100.0),
    "cpu_iowait_pct": (0.0, 100.0),
    "swap_used_pct": (0.0, 100.0),
    "load_average": (0.0, np.inf),
    "disk_usage_pct": (0.0, 100.0),
}
# Observed (past-only) inputs besides the targets. Together with the targets they carry every one
# of the 14 contract metrics (cpu_idle_pct through cpu_pct). Unbounded counters go through log1p,
# uptime is capped first, so no input grows without bound as a server ages.
OBSERVED = (
    "cpu_user_pct",
    "cpu_sys_pct",
    "java_cpu_pct",
    "log_net_in",
    "log_net_out",
    "log_back_close_wait",
    "log_front_close_wait",
    "log_uptime_days",
)
# Known-future inputs: position in the day and in the week as points on a circle.
KNOWN = ("tod_sin", "tod_cos", "dow_sin", "dow_cos")

# A metric a server never reported at all in its window is filled with this typical value.
TYPICAL_VALUES = {
    "cpu_user_pct": 20.0,
    "cpu_sys_pct": 5.0,
    "cpu_iowait_pct": 1.0,
    "cpu_idle_pct": 74.0,
    "java_cpu_pct": 0.0,
    "mem_used_pct": 50.0,
    "swap_used_pct": 0.0,
    "disk_usage_pct": 40.0,
    "net_in_mb_s": 1.0,
    "net_out_mb_s": 1.0,
    "back_close_wait": 0.0,
    "front_close_wait": 0.0,
    "load_average": 1.0,
    "uptime_days": 30.0,
}
TYPICAL = np.array([TYPICAL_VALUES[m] for m in METRICS], dtype=np.float32)


def metric_features(values: np.ndarray) -> dict[str, np.ndarray]:
    """Targets and observed inputs from raw metrics [..., 14] (no NaN expected)."""
    v = values.astype(np.float64, copy=False)
    return {
        "cpu_pct": cpu_pct_from_idle(v[..., M["cpu_idle_pct"]]),
        "mem_used_pct": v[..., M["mem_used_pct"]],
        "cpu_iowait_pct": v[..., M["cpu_iowait_pct"]],
        "swap_used_pct": v[..., M["swap_used_pct"]],
        "load_average": v[..., M["load_average"]],
        "disk_usage_pct": v[..., M["disk_usage_pct"]],
        "cpu_user_pct": v[..., M["cpu_user_pct"]],
        "cpu_sys_pct": v[..., M["cpu_sys_pct"]],
        "java_cpu_pct": v[..., M["java_cpu_pct"]],
        "log_net_in": np.log1p(np.clip(v[..., M["net_in_mb_s"]], 0, None)),
        "log_net_out": np.log1p(np.clip(v[..., M["net_out_mb_s"]], 0, None)),
        "log_back_close_wait": np.log1p(np.clip(v[..., M["back_close_wait"]], 0, None)),
        "log_front_close_wait": np.log1p(np.clip(v[..., M["front_close_wait"]], 0, None)),
        "log_uptime_days": np.log1p(np.clip(v[..., M["uptime_days"]], 0, UPTIME_CAP_DAYS)),
    }


def time_features(epoch_seconds: np.ndarray) -> dict[str, np.ndarray]:
    """Time of day and day of week (UTC) as sin/cos pairs."""
    t = np.asarray(epoch_seconds, dtype=np.int64)
    day = 86400
    tod = (t % day) / day
    # 1970-01-01 was a Thursday: shift so that Monday is 0.
    dow = (((t // day) + 3) % 7 + tod) / 7.0
    return {
        "tod_sin": np.sin(2 * np.pi * tod),
        "tod_cos": np.cos(2 * np.pi * tod),
        "dow_sin": np.sin(2 * np.pi * dow),
        "dow_cos": np.cos(2 * np.pi * dow),
    }


def target_array(values: np.ndarray) -> np.ndarray:
    """Targets [..., len(TARGETS)] from raw metrics [..., 14]; NaN stays NaN."""
    f = metric_features(values)
    return np.stack([f[t] for t in TARGETS], axis=-1)


def clip_to_ranges(forecasts: np.ndarray, targets=TARGETS) -> np.ndarray:
    """forecasts [..., len(targets), quantiles] clipped to TARGET_RANGES (NaN stays NaN)."""
    low, high = (np.array([TARGET_RANGES[t][k] for t in targets], dtype=np.float32)[:, None]
                 for k in (0, 1))
    return np.clip(forecasts, low, high)


def fill_gaps(windows: np.ndarray) -> np.ndarray:
    """Fill NaN in windows [B, L, 14] along time: carry the last value forward, use the first seen
    value for leading gaps, and the typical value for a metric never seen in the window."""
    w = np.asarray(windows, dtype=np.float32)
    ok = np.isfinite(w)
    if ok.all():
        return w.copy()
    L = w.shape[1]
    steps = np.arange(L)[None, :, None]
    idx = np.where(ok, steps, -1)
    np.maximum.accumulate(idx, axis=1, out=idx)
    first = np.argmax(ok, axis=1)[:, None, :]  # first seen step per (window, metric)
    idx = np.where(idx < 0, first, idx)
    out = np.take_along_axis(w, idx, axis=1)
    never = ~ok.any(axis=1)  # [B, 14]
    if never.any():
        out = np.where(never[:, None, :], TYPICAL[None, None, :], out)
    return out


def slot_times(end_time: int, n: int) -> np.ndarray:
    """Epoch seconds of the n slots ending at end_time (inclusive)."""
    return end_time - SLOT_SECONDS * np.arange(n - 1, -1, -1, dtype=np.int64)
