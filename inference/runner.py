"""One prediction run for one team: windows -> aligned arrays -> forecasts -> scores -> cache.

Staleness is judged in data time (a server whose newest point lags the team's newest by more
than ARGUS_STALE_SECONDS), so backfilled or replayed data works; the wall-clock age of each
server's last point is reported beside it."""
import logging
import time
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from core.times import iso
from feeds.schema import METRICS, SLOT_SECONDS, SLOTS_PER_DAY, STATUSES, cpu_pct_from_idle, profile_of
from feeds.windows import RECORD, Snapshot, list_servers, read_server_windows

from . import accuracy, cache, seasonal
from .alert_timeline import advance_timeline
from .fleet_view import store_fleet_view
from .model.features import TARGETS, target_array
from .scoring import fleet_probability, score_server
from .seasonal_state import load_states, save_states
from .trend import connection_lines, raise_for_trends

log = logging.getLogger(__name__)


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


def run_team_predictions(team_id, forecaster, chunk=None) -> dict:
    """Runs the model for every server of the team with enough history and caches the result.
    Returns the summary (for logs and tests).

    The fleet is read, aligned and forecast `chunk` servers at a time (ARGUS_RUN_CHUNK): a
    worker holds the arrays of one chunk, about 35 KB a server (600 slots), never of the whole fleet."""
    started = time.perf_counter()
    chunk = chunk or settings.ARGUS_RUN_CHUNK
    servers = list_servers(team_id)
    generated_at = time.time()
    parts = DocumentParts(forecaster)
    for names in (servers.names[i:i + chunk] for i in range(0, len(servers.names), chunk)):
        windows = read_server_windows(team_id, names)
        if windows:
            snapshot = Snapshot(servers.tick, servers.updated_ms, windows,
                                {name: servers.arrivals_ms[name] for name in windows})
            parts.add(*forecast_chunk(team_id, snapshot, forecaster), generated_at)
    if not parts.end_slots:
        return {"tick": servers.tick, "servers": 0, "stored": False}
    document, alerts = parts.assemble(servers.tick, generated_at, settings.ARGUS_STALE_SECONDS // SLOT_SECONDS)
    advance_timeline(team_id, servers.tick, servers.names, parts.scores, alerts["alerts"], max(parts.end_slots.values()))
    document["compute_seconds"] = round(time.perf_counter() - started, 3)
    stored = cache.store_predictions(team_id, document, alerts)
    if stored:
        store_fleet_view(team_id, document)
    log.info("team %s tick %s: %d servers forecast, %d alerts, %.2fs%s", team_id, servers.tick,
             len(document["predictions"]), alerts["count"], document["compute_seconds"],
             "" if stored else " (newer kept)")
    return {"tick": servers.tick, "servers": len(document["predictions"]), "stored": stored, **document["summary"]}


def forecast_chunk(team_id, snapshot, forecaster):
    """Aligns, forecasts (the served blend, inference.seasonal, with each server's kept state)
    and trend-checks one chunk of servers; scores the earlier forecasts its windows now reach and
    keeps these (inference.accuracy)."""
    inputs = align(
        snapshot,
        slots=max(settings.ARGUS_WINDOW_SLOTS, forecaster.max_encoder),
        max_fill_slots=settings.ARGUS_MAX_FILL_SECONDS // SLOT_SECONDS,
        stale_slots=settings.ARGUS_STALE_SECONDS // SLOT_SECONDS,  # within the chunk; redone in assemble()
    )
    profiles = [profile_of(name) for name in inputs.names]
    ok = forecaster.history_ok(inputs.values)
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
    """The team's documents, collected chunk by chunk: per-server entries and scores, and each
    server's newest slot, so that staleness (a lag behind the whole team's newest point) is
    judged once every chunk is in."""

    def __init__(self, forecaster):
        self.forecaster = forecaster
        self.predictions, self.alerts, self.insufficient, self.scores = {}, [], {}, []
        self.end_slots = {}  # server -> newest slot, every server read

    def add(self, snapshot, inputs, profiles, ok, forecasts, lines, generated_at):
        forecaster = self.forecaster
        quantile_keys = [f"p{int(round(q * 100))}" for q in forecaster.quantiles]
        p50 = forecaster.quantiles.index(0.5)
        current = target_array(inputs.last_records["values"])  # [n, targets]
        steps = np.arange(1, forecaster.horizon + 1) * SLOT_SECONDS
        self.end_slots.update(zip(inputs.names, inputs.end_slots.tolist()))
        for k, i in enumerate(np.flatnonzero(ok)):
            name, profile = inputs.names[i], profiles[i]
            forecast = forecasts[k]
            server_lines = {metric: (now[k], line[k]) for metric, (now, line) in lines.items()}
            score = score_server(name, profile, current[i], forecast, forecaster.quantiles, server_lines)
            self.scores.append((name, score))
            self.alerts.extend(score.problems)
            last = inputs.last_records[i]
            rounded = np.round(forecast, 2)
            self.predictions[name] = {
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
                "stale": False,  # set in assemble()
                "gaps": bool(inputs.gaps[i]),
            }
        for i in np.flatnonzero(~ok):
            self.insufficient[inputs.names[i]] = int(np.isfinite(inputs.values[i, :, 0]).sum())

    def assemble(self, tick, generated_at, stale_slots):
        newest = max(self.end_slots.values())
        for name, entry in self.predictions.items():
            entry["stale"] = newest - self.end_slots[name] > stale_slots
        alerts = sorted(self.alerts, key=lambda a: (-a["risk_score"], a["server_name"]))
        scores = [score for _, score in self.scores]
        levels = [s.alert["level"] for s in scores]
        summary = {
            "total_servers": len(scores),
            **{level: levels.count(level) for level in ("critical", "warning", "degraded", "healthy")},
            "fleet_health": round(float(np.mean([100 - s.risk for s in scores])), 1) if scores else 100.0,
            "prob_30m": round(fleet_probability([s.prob_30m for s in scores]), 4),
            "prob_8h": round(fleet_probability([s.prob_8h for s in scores]), 4),
            "stale_servers": sum(entry["stale"] for entry in self.predictions.values()),
            "insufficient_history": len(self.insufficient),
        }
        timestamp = iso(generated_at)
        document = {
            "timestamp": timestamp,
            "generated_at": round(generated_at, 3),
            "data_timestamp": iso(newest * SLOT_SECONDS),
            "tick": tick,
            "model": {"version": self.forecaster.version, "device": self.forecaster.device},
            "summary": summary,
            "predictions": dict(sorted(self.predictions.items())),
            "alerts": alerts,
            "insufficient_history": dict(sorted(self.insufficient.items())),
        }
        return document, {"timestamp": timestamp, "tick": tick, "count": len(alerts), "alerts": alerts}


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
