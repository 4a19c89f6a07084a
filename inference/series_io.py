"""Reading metric series from files into arrays on the 5-minute grid (numpy/pandas only).

Two formats:
- NAB (`timestamp,value`, the value a CPU percentage): becomes one server whose total CPU is the
  value; the other metrics get steady typical values (load follows CPU, as the feed guide suggests
  when load is not collected; uptime counts up).
- The feed schema (timestamp, server_name, status and the 14 metrics): one series per server.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from feeds.schema import METRICS, SLOT_SECONDS, SLOTS_PER_DAY, idle_from_cpu_pct, profile_of

from .model.features import M, TYPICAL_VALUES

NAB_CORES = 4


def _epoch(stamps) -> np.ndarray:
    ts = pd.DatetimeIndex(pd.to_datetime(stamps, utc=True))
    return ts.tz_localize(None).as_unit("s").asi8.astype(np.int64)


def _on_grid(epoch: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, int]:
    """Place rows on the 5-minute grid (slot = floor), last value wins; gaps become NaN.
    Returns (values [T, k], end_time)."""
    slots = epoch // SLOT_SECONDS
    first, last = int(slots.min()), int(slots.max())
    grid = np.full((last - first + 1, values.shape[1]), np.nan, dtype=np.float32)
    order = np.argsort(slots, kind="stable")
    grid[slots[order] - first] = values[order]
    return grid, last * SLOT_SECONDS


def nab_values(cpu_pct: np.ndarray) -> np.ndarray:
    """Feed-schema metrics [T, 14] for a series that only has total CPU %."""
    cpu = np.clip(np.asarray(cpu_pct, dtype=np.float64), 0, 100)
    T = len(cpu)
    v = np.empty((T, len(METRICS)), dtype=np.float32)
    for name, typical in TYPICAL_VALUES.items():
        v[:, M[name]] = typical
    v[:, M["cpu_user_pct"]] = 0.8 * cpu
    v[:, M["cpu_sys_pct"]] = 0.2 * cpu
    v[:, M["cpu_iowait_pct"]] = 0.0
    v[:, M["cpu_idle_pct"]] = idle_from_cpu_pct(cpu)
    v[:, M["load_average"]] = NAB_CORES * cpu / 100
    v[:, M["uptime_days"]] = 30 + np.arange(T) // SLOTS_PER_DAY
    v[np.isnan(cpu)] = np.nan
    return v


def read_nab(path) -> dict:
    df = pd.read_csv(path)
    if list(df.columns[:2]) != ["timestamp", "value"]:
        raise ValueError(f"{path}: not a NAB file (expected columns timestamp,value)")
    grid, end = _on_grid(_epoch(df["timestamp"]), df[["value"]].to_numpy(np.float32))
    return {"name": Path(path).stem, "profile": "generic", "end_time": end,
            "values": nab_values(grid[:, 0]), "source": f"nab:{Path(path).name}"}


def records_to_series(records: pd.DataFrame, source: str = "feed") -> list[dict]:
    """One dict(name, profile, end_time, values [T, 14]) per server in a feed-schema frame."""
    out = []
    epoch_all = _epoch(records["timestamp"])
    for name, idx in records.groupby("server_name", sort=True).indices.items():
        vals = records.iloc[idx][list(METRICS)].to_numpy(np.float32)
        grid, end = _on_grid(epoch_all[idx], vals)
        out.append({"name": str(name), "profile": profile_of(str(name)), "end_time": end,
                    "values": grid, "source": source})
    return out


def read_feed_csv(path) -> list[dict]:
    df = pd.read_csv(path)
    missing = [c for c in ("timestamp", "server_name") + METRICS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing feed-schema columns {missing}")
    return records_to_series(df, source=f"feed:{Path(path).name}")


def read_series_file(path) -> list[dict]:
    """NAB or feed-schema CSV (or Parquet for the feed schema), detected from the header."""
    path = Path(path)
    if path.suffix == ".parquet":
        return records_to_series(pd.read_parquet(path), source=f"feed:{path.name}")
    header = pd.read_csv(path, nrows=0).columns
    if list(header[:2]) == ["timestamp", "value"]:
        return [read_nab(path)]
    return read_feed_csv(path)
