"""Reading metric series from files into arrays on the 5-minute grid (numpy/pandas only).

Three formats:
- NAB (`timestamp,value`, the value a CPU percentage): becomes one server whose total CPU is the
  value; the other metrics get steady typical values (load follows CPU, as the feed guide suggests
  when load is not collected; uptime counts up).
- Real-host sets in one wide CSV (gzip allowed) with a `series_id` column (docs/model.md names
  their sources): the CPU column of each series becomes a server as NAB's value does. SMD
  (`cpu_r`, normalised to [0, 1] by its publisher) is scaled by 100; JumpStarter's `m06` is a
  percentage already.
- The feed schema (timestamp, server_name, status and the 14 metrics): one series per server.

Every series carries a `group`: the host it came from (JumpStarter's Dataset2_serviceK and
Dataset3_serviceK are one group, being near copies), so train/evaluation splits keep a host on
one side (host_fold).
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd

from feeds.schema import METRICS, SLOT_SECONDS, SLOTS_PER_DAY, idle_from_cpu_pct, profile_of

from .model.features import M, TYPICAL_VALUES

NAB_CORES = 4
# Wide real-host sets: (CPU column, factor to a percentage), found by the column present.
CPU_COLUMNS = (("cpu_r", 100.0), ("m06", 1.0))
EVAL_SHARE = 0.4  # hosts in the evaluation fold, by a stable hash of the group


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
            "values": nab_values(grid[:, 0]), "source": f"nab:{Path(path).name}",
            "group": f"nab:{Path(path).stem}", "eval_targets": ("cpu_pct",)}


def read_wide_set(path) -> list[dict]:
    """One CPU-only series per `series_id` of a wide real-host CSV (SMD or JumpStarter)."""
    header = pd.read_csv(path, nrows=0).columns
    found = [(c, k) for c, k in CPU_COLUMNS if c in header]
    if not found:
        raise ValueError(f"{path}: no known CPU column ({', '.join(c for c, _ in CPU_COLUMNS)})")
    column, factor = found[0]
    df = pd.read_csv(path, usecols=["timestamp", "series_id", column])
    out = []
    for series_id, rows in df.groupby("series_id", sort=True):
        grid, end = _on_grid(_epoch(rows["timestamp"]), rows[[column]].to_numpy(np.float32) * factor)
        name = str(series_id)
        out.append({"name": name, "profile": "generic", "end_time": end,
                    "values": nab_values(grid[:, 0]), "source": f"{Path(path).name.split('_')[0]}:{name}",
                    "group": host_group(name), "eval_targets": ("cpu_pct",)})
    return out


def host_group(series_id: str) -> str:
    """The host a real series belongs to: Dataset2_serviceK and Dataset3_serviceK share one."""
    return re.sub(r"^Dataset\d+_", "jumpstarter:", series_id)


def host_fold(group: str) -> str:
    """"train" or "eval" for a host, fixed by a hash of its group (about EVAL_SHARE in eval)."""
    bucket = int(hashlib.sha256(group.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "eval" if bucket < EVAL_SHARE else "train"


def records_to_series(records: pd.DataFrame, source: str = "feed") -> list[dict]:
    """One dict(name, profile, end_time, values [T, 14]) per server in a feed-schema frame."""
    out = []
    epoch_all = _epoch(records["timestamp"])
    for name, idx in records.groupby("server_name", sort=True).indices.items():
        vals = records.iloc[idx][list(METRICS)].to_numpy(np.float32)
        grid, end = _on_grid(epoch_all[idx], vals)
        out.append({"name": str(name), "profile": profile_of(str(name)), "end_time": end,
                    "values": grid, "source": source, "group": f"{source}:{name}"})
    return out


def read_feed_csv(path) -> list[dict]:
    df = pd.read_csv(path)
    missing = [c for c in ("timestamp", "server_name") + METRICS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing feed-schema columns {missing}")
    return records_to_series(df, source=f"feed:{Path(path).name}")


def read_series_file(path) -> list[dict]:
    """NAB, wide real-host or feed-schema CSV (or Parquet for the feed schema), detected from
    the header."""
    path = Path(path)
    if path.suffix == ".parquet":
        return records_to_series(pd.read_parquet(path), source=f"feed:{path.name}")
    header = pd.read_csv(path, nrows=0).columns
    if list(header[:2]) == ["timestamp", "value"]:
        return [read_nab(path)]
    if "series_id" in header:
        return read_wide_set(path)
    return read_feed_csv(path)
