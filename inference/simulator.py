"""Fleet simulator: realistic server metrics in the feed schema, with labelled incidents.

Deterministic from a seed. Each server has a profile (the contract's name prefixes) with its own
baselines, a daily and weekly traffic rhythm, metrics that move together (idle = 100 - user - sys -
iowait, load follows CPU and iowait, swap rises under memory pressure, network and CLOSE_WAIT follow
traffic), maintenance windows and reboots (uptime resets), and incidents that build up over hours:
memory leak, disk filling, runaway CPU, I/O-wait storm, connection leak. Every incident is labelled
with the first slot at which its metric reaches its threshold (computed from the emitted,
rounded records). Only the records are model inputs; incident state is never part of them.

    records, incidents = simulate_fleet(45, days=14, seed=1)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from feeds.schema import (  # noqa: F401
    INTEGER_METRICS,
    METRICS,
    SLOT_SECONDS,
    SLOTS_PER_DAY,
    STATUSES,
    cpu_pct_from_idle,
)

STEPS_PER_DAY = 86400 // SLOT_SECONDS
DEFAULT_START = pd.Timestamp("2025-01-06 00:00:00")  # a Monday, UTC

# name prefix, share of the fleet, cores, and the workload's shape
PROFILE_SPECS = {
    "web_api": dict(prefix="ppapi", share=0.25, cores=8, cpu=(8, 45), io=(0.5, 1.0),
                    mem=(55, 8), disk=(30, 55), disk_growth=0.3, net=30.0, java=0.6, cw=8,
                    shape="business", weekend=0.45),
    "database": dict(prefix="ppdb", share=0.15, cores=16, cpu=(12, 35), io=(2.5, 6.0),
                     mem=(70, 4), disk=(45, 70), disk_growth=0.4, net=15.0, java=0.0, cw=3,
                     shape="business", weekend=0.6),
    "ml_compute": dict(prefix="ppml", share=0.15, cores=32, cpu=(6, 65), io=(1.0, 2.0),
                       mem=(45, 20), disk=(35, 60), disk_growth=0.5, net=8.0, java=0.0, cw=1,
                       shape="jobs", weekend=0.8),
    "data_ingest": dict(prefix="ppetl", share=0.15, cores=8, cpu=(6, 55), io=(2.0, 12.0),
                        mem=(55, 12), disk=(50, 72), disk_growth=1.0, net=40.0, java=0.2, cw=2,
                        shape="nightly", weekend=0.9),
    "risk_analytics": dict(prefix="pprisk", share=0.1, cores=16, cpu=(6, 50), io=(0.8, 2.0),
                           mem=(60, 10), disk=(35, 55), disk_growth=0.3, net=10.0, java=0.7,
                           cw=2, shape="evening", weekend=0.3),
    "conductor_mgmt": dict(prefix="ppcond", share=0.1, cores=4, cpu=(4, 15), io=(0.3, 0.5),
                           mem=(40, 5), disk=(25, 45), disk_growth=0.2, net=2.0, java=0.5, cw=4,
                           shape="business", weekend=0.7),
    "generic": dict(prefix="ppsrv", share=0.1, cores=4, cpu=(5, 25), io=(0.5, 1.5),
                    mem=(45, 8), disk=(30, 60), disk_growth=0.3, net=5.0, java=0.0, cw=1,
                    shape="business", weekend=0.6),
}

# kind -> (metric, threshold, hours from onset to breach (min, max))
INCIDENT_KINDS = {
    "memory_leak": ("mem_used_pct", 95.0, (3.0, 10.0)),
    "disk_filling": ("disk_usage_pct", 90.0, (3.0, 12.0)),
    "runaway_cpu": ("cpu_pct", 95.0, (1.0, 4.0)),
    "iowait_storm": ("cpu_iowait_pct", 30.0, (1.0, 3.0)),
    "connection_leak": ("back_close_wait", 500.0, (2.0, 8.0)),
}


def incident_metric(records: pd.DataFrame, metric: str) -> pd.Series:
    """An incident's metric from records (cpu_pct is derived from cpu_idle_pct)."""
    if metric == "cpu_pct":
        return cpu_pct_from_idle(records["cpu_idle_pct"])
    return records[metric]


def fleet_names(n_servers: int) -> list[tuple[str, str]]:
    """(server_name, profile) for a fleet of n servers, profiles in fixed shares."""
    profiles = list(PROFILE_SPECS)
    shares = np.array([PROFILE_SPECS[p]["share"] for p in profiles])
    counts = np.floor(shares * n_servers).astype(int)
    # hand out the remainder in profile order, largest fractional part first
    rest = n_servers - counts.sum()
    for j in np.argsort(-(shares * n_servers - counts), kind="stable")[:rest]:
        counts[j] += 1
    out = []
    for p, c in zip(profiles, counts):
        out += [(f"{PROFILE_SPECS[p]['prefix']}{k + 1:03d}", p) for k in range(c)]
    return out


def _daily_shape(shape: str, hours: np.ndarray, rng) -> np.ndarray:
    h = hours
    if shape == "business":
        shift = rng.normal(0, 0.7)
        x = (np.exp(-((h - 10.5 - shift) ** 2) / (2 * 2.2 ** 2))
             + 0.8 * np.exp(-((h - 15.0 - shift) ** 2) / (2 * 2.5 ** 2)))
        return 0.08 + 0.92 * x / 1.25
    if shape == "nightly":  # ETL batch around 01:00-05:00 plus light daytime ingest
        start = 1.0 + rng.uniform(-0.5, 0.5)
        batch = 1 / (1 + np.exp(-(h - start) * 4)) * 1 / (1 + np.exp((h - start - 3.5) * 3))
        day = 0.25 * np.exp(-((h - 13) ** 2) / (2 * 3 ** 2))
        return 0.05 + batch + day
    if shape == "evening":  # end-of-day risk runs
        start = 17.5 + rng.uniform(-0.5, 0.5)
        batch = 1 / (1 + np.exp(-(h - start) * 3)) * 1 / (1 + np.exp((h - start - 4) * 3))
        day = 0.3 * np.exp(-((h - 11) ** 2) / (2 * 2.5 ** 2))
        return 0.05 + batch + day
    return 0.3 + 0.2 * np.exp(-((h - 12) ** 2) / (2 * 4 ** 2))  # jobs: level set by job blocks


def _ar1(rng, n, phi, sd):
    e = rng.normal(0, sd * np.sqrt(1 - phi ** 2), n)
    out = np.empty(n)
    acc = rng.normal(0, sd)
    for i in range(n):
        acc = phi * acc + e[i]
        out[i] = acc
    return out


def _ramp(n, start, length):
    """0 before start, rising linearly to 1 over `length` steps, 1 after."""
    t = np.arange(n) - start
    return np.clip(t / max(length, 1), 0, 1) * (t >= 0)


@dataclass(frozen=True)
class Variety:
    """How a training host departs from its profile: its day runs on another clock (a time
    zone, a batch schedule) and its CPU may jump between 5-minute points while its hourly
    average stays smooth, as real hosts do and the profiles alone do not."""

    shift_hours: float = 0.0
    cpu_jitter: float = 0.0  # standard deviation of independent per-slot CPU noise, % points

    @classmethod
    def draw(cls, rng) -> "Variety":
        shift = rng.uniform(0, 24) if rng.random() < 0.5 else 0.0
        jitter = rng.uniform(2, 12) if rng.random() < 0.3 else 0.0
        return cls(shift, jitter)


def _simulate_server(name, profile, n, times, rng, incident_rate, variety=Variety()):
    spec = PROFILE_SPECS[profile]
    cores = spec["cores"]
    local = times + int(variety.shift_hours * 3600)
    hours = (local % 86400) / 3600.0
    dow = ((local // 86400) + 3) % 7  # Monday = 0
    weekend = dow >= 5

    # --- traffic: daily shape x weekly factor x slow AR noise x occasional level shifts (deploys)
    traffic = _daily_shape(spec["shape"], hours, rng)
    traffic = np.where(weekend, traffic * spec["weekend"] * rng.uniform(0.85, 1.15), traffic)
    if spec["shape"] == "jobs":  # ML: training jobs of a few hours at random
        jobs = np.zeros(n)
        t = int(rng.integers(0, SLOTS_PER_DAY))
        while t < n:
            length = int(rng.integers(24, 120))
            jobs[t:t + length] = rng.uniform(0.6, 1.0)
            t += length + int(rng.exponential(150))
        traffic = traffic * 0.3 + jobs
    level = np.ones(n)
    t = int(rng.exponential(4 * STEPS_PER_DAY))
    while t < n:
        level[t:] *= rng.uniform(0.8, 1.25)
        t += int(rng.exponential(4 * STEPS_PER_DAY)) + 1
    traffic = np.clip(traffic * level * (1 + _ar1(rng, n, 0.97, 0.08)), 0.01, None)

    cpu_base, cpu_amp = spec["cpu"]
    cpu_base *= rng.uniform(0.7, 1.3)
    cpu_amp *= rng.uniform(0.7, 1.2)
    kind_of_host = rng.random()
    if profile in ("generic", "ml_compute", "risk_analytics") and kind_of_host < 0.25:
        cpu_base += rng.uniform(45, 80)  # a host that runs hot all the time
        cpu_amp *= 0.3
    elif profile in ("generic", "conductor_mgmt") and kind_of_host > 0.8:
        cpu_base, cpu_amp = rng.uniform(0.05, 1.0), rng.uniform(0.0, 1.0)  # a nearly idle VM
    noise_sd = (1.5 + 0.04 * cpu_amp) * rng.uniform(0.3, 1.5)
    busy = cpu_base + cpu_amp * traffic + _ar1(rng, n, 0.5, min(noise_sd, 0.5 + cpu_base))
    # Workload changes that persist for hours to days (a new job, a migration, a stuck batch):
    # real CPU series keep a new level far more often than they revert within the day.
    regime_rate = rng.choice([0.0, 0.0, 0.15, 0.4]) / STEPS_PER_DAY
    t = int(rng.exponential(1 / regime_rate)) if regime_rate else n
    while t < n:
        length = int(rng.exponential(1.5 * STEPS_PER_DAY)) + 12
        level = rng.choice([rng.uniform(0.3, 10), rng.uniform(10, 60), rng.uniform(60, 97)])
        seg = slice(t, min(n, t + length))
        busy[seg] = (level + rng.uniform(0.05, 0.5) * (busy[seg] - cpu_base - 0.4 * cpu_amp)
                     + rng.normal(0, rng.uniform(0.2, 3.0), len(busy[seg])))
        t += length + int(rng.exponential(1 / regime_rate))
    # heavy-tailed short spikes (cron jobs, GC, batch queries)
    spikes = rng.random(n) < 0.012
    spike = np.zeros(n)
    for i in np.flatnonzero(spikes):
        spike[i:i + int(rng.integers(1, 4))] += rng.exponential(12)
    if variety.cpu_jitter:  # drawn only for such hosts: a fleet without variety is unchanged
        busy = busy + rng.normal(0, variety.cpu_jitter, n)
    busy = np.clip(busy + spike, 0.02, 97.0)

    io_base, io_amp = spec["io"]
    iowait = np.clip(io_base * rng.uniform(0.6, 1.4) + io_amp * traffic ** 1.5
                     + _ar1(rng, n, 0.6, 0.3 + 0.1 * io_amp), 0.0, 20.0)

    mem_base, mem_amp = spec["mem"]
    mem_base *= rng.uniform(0.85, 1.15)
    mem_smooth = np.convolve(traffic, np.ones(12) / 12, mode="same")
    mem = mem_base + mem_amp * (mem_smooth - 0.4) + _ar1(rng, n, 0.95, 0.6)

    disk_lo, disk_hi = spec["disk"]
    disk0 = rng.uniform(disk_lo, disk_hi)
    growth = spec["disk_growth"] * rng.uniform(0.5, 1.5) / STEPS_PER_DAY  # % per slot
    day_index = (times - times[0]) // 86400
    # nightly log rotation removes most of the day's growth; weekly cleanup resets the rest
    since_week = np.arange(n) % (7 * STEPS_PER_DAY)
    disk = disk0 + growth * (since_week * 0.25 + (np.arange(n) % STEPS_PER_DAY) * 0.75)
    disk = disk + rng.normal(0, 0.01, n)

    net_in = spec["net"] * rng.uniform(0.5, 1.5) * traffic * (1 + rng.normal(0, 0.08, n))
    net_out = net_in * rng.uniform(0.3, 1.5) * (1 + rng.normal(0, 0.05, n))
    cw_front = rng.poisson(spec["cw"] * traffic * rng.uniform(0.5, 1.5))
    cw_back = rng.poisson(spec["cw"] * 0.7 * traffic * rng.uniform(0.5, 1.5)).astype(float)
    swap_base = rng.choice([0.0, 0.0, rng.uniform(0.5, 4.0)])
    swap = np.clip(swap_base + rng.normal(0, 0.05, n) * (swap_base > 0), 0, None)

    status = np.full(n, "healthy", dtype=object)
    offline = np.zeros(n, bool)
    maint = np.zeros(n, bool)
    recovery = np.zeros(n, bool)
    critical_from = np.full(n, False)
    reboots = []  # slot indexes where the server comes back up

    # --- maintenance windows: weekly slot on a weekend night, taken on ~60% of weeks
    m_day, m_hour = int(rng.integers(5, 7)), int(rng.integers(1, 5))
    for d in range(int(day_index[-1]) + 1):
        i0 = d * STEPS_PER_DAY + m_hour * 12
        if i0 + 36 >= n or dow[i0] != m_day or rng.random() > 0.6:
            continue
        length = int(rng.integers(12, 36))
        maint[i0:i0 + length] = True
        busy[i0:i0 + length] *= 0.15
        if rng.random() < 0.7:  # patching ends with a reboot
            off = int(rng.integers(1, 3))
            offline[i0 + length - off:i0 + length] = True
            reboots.append(i0 + length)

    # --- incidents: one at a time, onset at random, ramping to the threshold over hours
    incidents = []
    rate_per_step = incident_rate / STEPS_PER_DAY
    t = int(rng.exponential(1 / rate_per_step)) if rate_per_step > 0 else n
    while t < n - 24:
        kind = str(rng.choice(list(INCIDENT_KINDS)))
        if kind == "runaway_cpu" and busy[max(0, t - STEPS_PER_DAY):t + 1].max() > 80:
            kind = "memory_leak"  # a host that already runs hot has no runaway to label
        metric, threshold, (h_lo, h_hi) = INCIDENT_KINDS[kind]
        to_breach = int(rng.uniform(h_lo, h_hi) * 12)
        after = int(rng.integers(6, 18))  # the problem lasts 30-90 min past the breach
        end = min(n, t + to_breach + after)
        if maint[t:end].any() or offline[t:end].any():
            t = end + int(rng.exponential(1 / rate_per_step))
            continue
        r = _ramp(n, t, to_breach)[t:end] * (1 + (np.arange(end - t) - to_breach).clip(0) / 40)
        seg = slice(t, end)
        if kind == "memory_leak":
            start_level = mem[t]
            mem[seg] = mem[seg] + (97.5 - start_level) * r
        elif kind == "disk_filling":
            disk[seg] = disk[seg] + (92.0 - disk[t]) * r
        elif kind == "runaway_cpu":
            busy[seg] = busy[seg] + (98.0 - busy[seg]) * r ** 1.5
        elif kind == "iowait_storm":
            iowait[seg] = iowait[seg] + (36.0 - iowait[seg]) * r ** 1.3
        elif kind == "connection_leak":
            cw_back[seg] = cw_back[seg] + 530 * r
            mem[seg] = mem[seg] + 4 * r
        incidents.append(dict(kind=kind, metric=metric, threshold=threshold, onset=t, end=end))
        # remediation: restart (reboot for leaks), then an hour of recovery
        if kind in ("memory_leak",):
            offline[end:end + 2] = True
            reboots.append(min(n, end + 2))
        elif kind == "disk_filling":
            # the fill itself stopped at `end`; the cleanup also removes most of what had
            # built up since the server's starting level
            disk[end:] -= (disk[t] - disk0) * 0.9
        elif kind == "connection_leak" and end < n:
            cw_back[end:end + 1] = 0
        recovery[end:end + 12] = True
        t = end + 36 + int(rng.exponential(1 / rate_per_step))

    # --- unplanned reboots (kernel panics, host moves): rare
    for i in np.flatnonzero(rng.random(n) < 0.05 / STEPS_PER_DAY):
        if not maint[i] and i + 2 < n:
            offline[i:i + 2] = True
            reboots.append(i + 2)
            recovery[i + 2:i + 14] = True

    # --- reboots: uptime resets, memory caches rebuild, swap empties
    boot = np.full(n, -rng.uniform(1, 120) * STEPS_PER_DAY)
    for r_i in sorted(set(reboots)):
        if r_i < n:
            boot[r_i:] = r_i
            warm = np.clip((np.arange(n - r_i)) / 24, 0, 1)
            mem[r_i:] = mem[r_i:] - (1 - warm) * 0.35 * mem_base
            swap[r_i:] = swap[r_i:] * warm
            cw_back[r_i:r_i + 24] = np.minimum(cw_back[r_i:r_i + 24], spec["cw"] * 2)
    uptime = np.floor((np.arange(n) - boot) / STEPS_PER_DAY)

    mem = np.clip(mem, 5, 99.5)
    swap = np.clip(swap + np.clip(mem - 85, 0, None) * 1.8, 0, 100)

    # --- CPU split: user + sys + iowait + idle = 100
    total = busy + iowait
    over = total > 99.5
    busy = np.where(over, busy * 99.5 / total, busy)
    iowait = np.where(over, iowait * 99.5 / total, iowait)
    user_share = np.clip(rng.uniform(0.65, 0.85) + rng.normal(0, 0.03, n), 0.4, 0.95)
    user = busy * user_share
    sys = busy - user
    java = user * spec["java"] * np.clip(1 + rng.normal(0, 0.05, n), 0, 1.2) if spec["java"] else 0 * user
    load = (cores * (busy / 100) * (1 + rng.normal(0, 0.05, n))
            + cores * (iowait / 100) * 1.5 + 0.05)
    load = np.convolve(np.clip(load, 0, None), [0.6, 0.3, 0.1])[:n]

    # --- offline slots: the collector gets nothing real back
    for arr in (user, sys, iowait, java, net_in, net_out, cw_front, cw_back, load):
        arr[offline] = 0
    uptime[offline] = 0

    rec = {
        "cpu_user_pct": np.round(user, 2),
        "cpu_sys_pct": np.round(sys, 2),
        "cpu_iowait_pct": np.round(iowait, 2),
        "java_cpu_pct": np.round(np.minimum(java, user), 2),
        "mem_used_pct": np.round(mem, 2),
        "swap_used_pct": np.round(swap, 2),
        "disk_usage_pct": np.round(np.clip(disk, 1, 100), 2),
        "net_in_mb_s": np.round(np.clip(net_in, 0, None), 3),
        "net_out_mb_s": np.round(np.clip(net_out, 0, None), 3),
        "back_close_wait": np.clip(np.round(cw_back), 0, None).astype(np.int64),
        "front_close_wait": np.clip(cw_front, 0, None).astype(np.int64),
        "load_average": np.round(load, 2),
        "uptime_days": np.clip(uptime, 0, 365).astype(np.int64),
    }
    rec["cpu_idle_pct"] = np.round(
        100 - rec["cpu_user_pct"] - rec["cpu_sys_pct"] - rec["cpu_iowait_pct"], 2)
    cpu_pct = cpu_pct_from_idle(rec["cpu_idle_pct"])

    # --- labels: first slot at or after onset where the emitted metric reaches the threshold
    labelled = []
    for inc in incidents:
        values = cpu_pct if inc["metric"] == "cpu_pct" else rec[inc["metric"]]
        hit = np.flatnonzero(values[inc["onset"]:inc["end"]] >= inc["threshold"])
        breach = inc["onset"] + int(hit[0]) if len(hit) else None
        if breach is not None:
            critical_from[breach:inc["end"]] = True
        labelled.append({**inc, "breach": breach})

    # --- status, most specific first
    morning = (~weekend) & (hours >= 7.5) & (hours < 9.5) & (spec["shape"] == "business")
    status[cpu_pct < 8] = "idle"
    status[morning] = "morning_spike"
    status[(cpu_pct > 80) | (load > cores)] = "heavy_load"
    status[recovery] = "recovery"
    status[critical_from] = "critical_issue"
    status[maint] = "maintenance"
    status[offline] = "offline"
    return rec, status, labelled


def simulate_fleet(n_servers: int, days: float, seed: int, start=None,
                   incident_rate: float = 0.1, variety: bool = False):
    """Simulate a fleet; returns (records, incidents) as DataFrames.

    variety: each server draws a Variety (half run on another clock, three in ten jitter), for
    training; without it (benchmarks, the demo) the profiles run on UTC as specified.

    records: timestamp, server_name, status and the 14 METRICS, one row per server per 5 minutes.
    incidents: server_name, kind, onset, breach_time (NaT if the series ends first), metric,
    threshold. incident_rate is the expected number of incidents per server per day."""
    start = DEFAULT_START if start is None else pd.Timestamp(start)
    if start.tzinfo is not None:
        start = start.tz_convert("UTC").tz_localize(None)
    start = start.floor(f"{SLOT_SECONDS}s")
    n = int(round(days * STEPS_PER_DAY))
    if n < 1 or n_servers < 1:
        raise ValueError("need at least one server and one slot")
    stamps = pd.date_range(start, periods=n, freq=f"{SLOT_SECONDS}s")
    epoch = (stamps.as_unit("s").asi8).astype(np.int64)
    frames, inc_rows = [], []
    for i, (name, profile) in enumerate(fleet_names(n_servers)):
        rng = np.random.default_rng([seed, i])
        twist = Variety.draw(np.random.default_rng([seed, i, 1])) if variety else Variety()
        rec, status, labelled = _simulate_server(name, profile, n, epoch, rng, incident_rate, twist)
        df = pd.DataFrame({"timestamp": stamps, "server_name": name, "status": status})
        for m in METRICS:
            df[m] = rec[m]
        frames.append(df)
        for inc in labelled:
            inc_rows.append({
                "server_name": name,
                "kind": inc["kind"],
                "onset": stamps[inc["onset"]],
                "breach_time": stamps[inc["breach"]] if inc["breach"] is not None else pd.NaT,
                "metric": inc["metric"],
                "threshold": inc["threshold"],
            })
    records = pd.concat(frames, ignore_index=True)
    records["status"] = records["status"].astype(str)
    records = records.sort_values(["timestamp", "server_name"], kind="stable").reset_index(drop=True)
    incidents = pd.DataFrame(inc_rows, columns=["server_name", "kind", "onset", "breach_time",
                                                "metric", "threshold"])
    return records, incidents
