"""One prediction run for one team: windows -> aligned arrays -> forecasts -> scores -> cache.

Staleness is judged in data time (a server whose newest point lags the team's newest by more
than ARGUS_STALE_SECONDS), so backfilled or replayed data works; the wall-clock age of each
server's last point is reported beside it."""
import json
import time
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from core.times import iso
from feeds.schema import METRICS, SLOT_SECONDS, SLOTS_PER_DAY, STATUSES, cpu_pct_from_idle, profile_of
from feeds.windows import RECORD, Snapshot, list_servers, read_server_windows

from . import accuracy, seasonal
from .assembly import RunHead, ServerPart, ShardResult, model_of, publish_run
from .fleet_view import server_row
from .model.features import TARGETS, target_array
from .scoring import score_server
from .seasonal_state import load_states, save_states
from .trend import connection_lines, raise_for_trends



@dataclass
class FleetInputs:
    names: list
    values: np.ndarray  # float32 [n, slots, 14], last index = each server's newest slot, NaN = none
    end_slots: np.ndarray  # int64 [n]
    last_records: np.ndarray  # RECORD [n], each server's newest point
    stale: np.ndarray  # bool [n]
    gaps: np.ndarray  # bool [n]: a gap longer than ARGUS_MAX_FILL_SECONDS in the window


def align(snapshot: Snapshot, slots: int, max_fill_slots: int, stale_slots: int) -> FleetInputs:
    """Each server's window on the grid, ending at its own newest slot (a non-empty snapshot)."""
    names = sorted(snapshot.windows)
    n = len(names)
    values = np.full((n, slots, len(METRICS)), np.nan, dtype=np.float32)
    end_slots = np.array([int(snapshot.windows[s]["slot"][-1]) for s in names], dtype=np.int64)
    gaps = np.zeros(n, dtype=bool)
    for i, name in enumerate(names):
        records = snapshot.windows[name]
        offsets = slots - 1 - (end_slots[i] - records["slot"].astype(np.int64))
        keep = offsets >= 0
        values[i, offsets[keep]] = records["values"][keep]
        gaps[i] = fill_short_gaps(values[i], max_fill_slots)
    last_records = np.array([snapshot.windows[s][-1] for s in names], dtype=RECORD)
    stale = (end_slots.max() - end_slots) > stale_slots
    return FleetInputs(names, values, end_slots, last_records, stale, gaps)


def fill_short_gaps(window: np.ndarray, max_fill: int) -> bool:
    """Linearly interpolates runs of up to max_fill missing slots between two points, in place.
    Returns True if a longer gap remains (left as NaN; the model carries values across it)."""
    present = np.flatnonzero(np.isfinite(window[:, 0]))
    if len(present) < 2:
        return False
    gap_lengths = np.diff(present) - 1
    short = np.flatnonzero((gap_lengths > 0) & (gap_lengths <= max_fill))
    if len(short):
        missing = np.concatenate([np.arange(present[k] + 1, present[k + 1]) for k in short])
        for m in range(window.shape[1]):
            window[missing, m] = np.interp(missing, present, window[present, m])
    return bool((gap_lengths > max_fill).any())


def run_team_predictions(team_id, forecaster, chunk=None, servers=None) -> dict:
    """Runs the model for every server of the team with enough history and caches the result,
    in this process (a team of up to ARGUS_SHARD_SERVERS servers; larger teams are split across
    workers by inference.sharding, which builds the document the same way). Returns the summary
    (for logs and tests). `servers`: the team's ServerList if the caller has just read it."""
    started = time.perf_counter()
    servers = servers or list_servers(team_id)
    run = RunHead(team_id, servers.tick, time.time(), model_of(forecaster), started)
    result = forecast_servers(team_id, forecaster, servers.names, servers.arrivals_ms, run.generated_at, chunk)
    return publish_run(run, [result], servers.names)


def forecast_servers(team_id, forecaster, names, arrivals_ms, generated_at, chunk=None) -> ShardResult:
    """Forecasts and scores the named servers (a whole team, or one shard of it) and returns the
    part of the team's document they make up.

    The servers are read, aligned and forecast `chunk` at a time (ARGUS_RUN_CHUNK): a worker
    holds the arrays of one chunk, about 35 KB a server (600 slots), never of the whole fleet."""
    started = time.perf_counter()
    chunk = chunk or settings.ARGUS_RUN_CHUNK
    parts = DocumentParts(forecaster)
    for start in range(0, len(names), chunk):
        windows = read_server_windows(team_id, names[start:start + chunk])
        if windows:
            snapshot = Snapshot(0, 0, windows, {name: arrivals_ms[name] for name in windows})
            parts.add(*forecast_chunk(team_id, snapshot, forecaster), generated_at)
    return parts.export(seconds=time.perf_counter() - started)


def forecast_chunk(team_id, snapshot, forecaster):
    """Aligns, forecasts (the served blend, inference.seasonal, with each server's kept state)
    and trend-checks one chunk of servers; scores the earlier forecasts its windows now reach and
    keeps these (inference.accuracy)."""
    inputs = align(
        snapshot,
        slots=max(settings.ARGUS_WINDOW_SLOTS, forecaster.max_encoder),
        max_fill_slots=settings.ARGUS_MAX_FILL_SECONDS // SLOT_SECONDS,
        stale_slots=settings.ARGUS_STALE_SECONDS // SLOT_SECONDS,  # within the chunk; judged again at the merge
    )
    profiles = [profile_of(name) for name in inputs.names]
    ok = forecaster.history_ok(inputs.values)
    if not ok.any():  # a chunk (or a shard) of servers that are all still warming up
        return snapshot, inputs, profiles, ok, None, {}
    windows = inputs.values[ok]  # one copy of the servers with enough history
    names = [name for name, good in zip(inputs.names, ok) if good]
    states = load_states(team_id, names)
    forecasts = seasonal.forecast(forecaster, windows, inputs.end_slots[ok],
                                  [p for p, good in zip(profiles, ok) if good], states,
                                  chunk_size=settings.ARGUS_INFERENCE_CHUNK)
    save_states(team_id, names, states)
    last_day = windows[:, -SLOTS_PER_DAY:]  # the trend rules read yesterday from a day's window
    forecasts = raise_for_trends(forecasts, target_array(last_day))
    accuracy.track(team_id, names, inputs.end_slots[ok], snapshot.windows, forecasts, forecaster.quantiles)
    lines = connection_lines(last_day, forecaster.horizon)
    return snapshot, inputs, profiles, ok, forecasts, lines


class DocumentParts:
    """One shard's part of the team's documents (the whole team when it is not split), collected
    chunk by chunk. Each server's entry is serialised as soon as it is made (a JSON string is a
    tenth of the memory of the dict, and the merge then only joins bytes); what the merge needs
    to judge staleness against the whole team, sum up the fleet and advance the alert timeline
    is kept beside it in `servers` (inference.assembly)."""

    def __init__(self, forecaster):
        self.forecaster = forecaster
        self.bodies, self.servers, self.alerts, self.insufficient = [], [], [], {}
        self.newest = None  # the newest slot of every server read, with enough history or not

    def add(self, snapshot, inputs, profiles, ok, forecasts, lines, generated_at):
        forecaster = self.forecaster
        quantile_keys = [f"p{int(round(q * 100))}" for q in forecaster.quantiles]
        p50 = forecaster.quantiles.index(0.5)
        current = target_array(inputs.last_records["values"])  # [n, targets]
        steps = np.arange(1, forecaster.horizon + 1) * SLOT_SECONDS
        newest = int(inputs.end_slots.max())
        self.newest = newest if self.newest is None else max(self.newest, newest)
        for k, i in enumerate(np.flatnonzero(ok)):
            name, profile = inputs.names[i], profiles[i]
            forecast = forecasts[k]
            server_lines = {metric: (now[k], line[k]) for metric, (now, line) in lines.items()}
            score = score_server(name, profile, current[i], forecast, forecaster.quantiles, server_lines)
            self.alerts.extend(score.problems)
            last = inputs.last_records[i]
            rounded = np.round(forecast, 2)
            entry = {
                "risk_score": int(round(score.risk)),
                "profile": profile,
                "alert": score.alert,
                "display_metrics": display_metrics(last),
                "forecast": {
                    "timestamps": [iso(inputs.end_slots[i] * SLOT_SECONDS + s) for s in steps],
                    "cpu_pct": rounded[:, TARGETS.index("cpu_pct"), p50].tolist(),
                    "mem_pct": rounded[:, TARGETS.index("mem_used_pct"), p50].tolist(),
                    "quantiles": {t: {key: rounded[:, j, q].tolist() for q, key in enumerate(quantile_keys)}
                                  for j, t in enumerate(TARGETS)},
                },
                "risks": score.metrics,
                "last_point": iso(inputs.end_slots[i] * SLOT_SECONDS),
                "last_received_age_seconds": round(generated_at - snapshot.arrivals_ms[name] / 1000, 1),
                # "stale" and "gaps" follow, written by the merge (inference.assembly)
            }
            # allow_nan=False: a NaN or infinity would make the served document invalid JSON; the
            # run fails loudly instead (and the previous document stays)
            self.bodies.append(json.dumps(entry, separators=(",", ":"), allow_nan=False))
            self.servers.append(ServerPart(
                name, int(inputs.end_slots[i]), bool(inputs.gaps[i]), score.risk, score.alert["level"],
                score.prob_30m, score.prob_8h, {metric: m["risk"] for metric, m in score.metrics.items()},
                server_row(name, entry)))
        for i in np.flatnonzero(~ok):
            self.insufficient[inputs.names[i]] = int(np.isfinite(inputs.values[i, :, 0]).sum())

    def export(self, seconds: float) -> ShardResult:
        return ShardResult.of(self.bodies, self.servers, self.alerts, self.insufficient, self.newest,
                              self.forecaster.version, seconds)


def display_metrics(record) -> dict:
    v = dict(zip(METRICS, record["values"].tolist()))
    return {
        "cpu_pct": round(cpu_pct_from_idle(v["cpu_idle_pct"]), 1),
        "mem_pct": round(v["mem_used_pct"], 1),
        "iowait_pct": round(v["cpu_iowait_pct"], 1),
        "swap_pct": round(v["swap_used_pct"], 1),
        "disk_pct": round(v["disk_usage_pct"], 1),
        "load_average": round(v["load_average"], 2),
        "net_in_mb_s": round(v["net_in_mb_s"], 2),
        "net_out_mb_s": round(v["net_out_mb_s"], 2),
        "status": STATUSES[int(record["status"])],
    }
