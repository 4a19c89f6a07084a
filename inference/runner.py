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
from feeds.windows import RECORD, Snapshot, read_windows

from . import cache, seasonal
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


def run_team_predictions(team_id, forecaster) -> dict:
    """Runs the model for every server of the team with enough history and caches the result.
    Returns the summary (for logs and tests)."""
    started = time.perf_counter()
    snapshot = read_windows(team_id)
    if not snapshot.windows:
        return {"tick": snapshot.tick, "servers": 0, "stored": False}
    inputs = align(
        snapshot,
        slots=max(settings.ARGUS_WINDOW_SLOTS, forecaster.max_encoder),
        max_fill_slots=settings.ARGUS_MAX_FILL_SECONDS // SLOT_SECONDS,
        stale_slots=settings.ARGUS_STALE_SECONDS // SLOT_SECONDS,
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
    lines = connection_lines(last_day, forecaster.horizon)
    document, alerts = build_documents(snapshot, inputs, profiles, ok, forecasts, lines, forecaster)
    document["compute_seconds"] = round(time.perf_counter() - started, 3)
    stored = cache.store_predictions(team_id, document, alerts)
    log.info("team %s tick %s: %d servers forecast, %d alerts, %.2fs%s", team_id, snapshot.tick,
             int(ok.sum()), alerts["count"], document["compute_seconds"], "" if stored else " (newer kept)")
    return {"tick": snapshot.tick, "servers": int(ok.sum()), "stored": stored, **document["summary"]}


def build_documents(snapshot, inputs, profiles, ok, forecasts, lines, forecaster):
    generated_at = time.time()
    quantile_keys = [f"p{int(round(q * 100))}" for q in forecaster.quantiles]
    p50 = forecaster.quantiles.index(0.5)
    current = target_array(inputs.last_records["values"])  # [n, targets]
    steps = np.arange(1, forecaster.horizon + 1) * SLOT_SECONDS
    predictions, alerts, insufficient, scores = {}, [], {}, []
    for k, i in enumerate(np.flatnonzero(ok)):
        name, profile = inputs.names[i], profiles[i]
        forecast = forecasts[k]
        server_lines = {metric: (now[k], line[k]) for metric, (now, line) in lines.items()}
        score = score_server(name, profile, current[i], forecast, forecaster.quantiles, server_lines)
        scores.append(score)
        alerts.extend(score.problems)
        last = inputs.last_records[i]
        rounded = np.round(forecast, 2)
        predictions[name] = {
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
            "stale": bool(inputs.stale[i]),
            "gaps": bool(inputs.gaps[i]),
        }
    for i in np.flatnonzero(~ok):
        insufficient[inputs.names[i]] = int(np.isfinite(inputs.values[i, :, 0]).sum())
    alerts.sort(key=lambda a: (-a["risk_score"], a["server_name"]))
    levels = [s.alert["level"] for s in scores]
    summary = {
        "total_servers": len(scores),
        **{level: levels.count(level) for level in ("critical", "warning", "degraded", "healthy")},
        "fleet_health": round(float(np.mean([100 - s.risk for s in scores])), 1) if scores else 100.0,
        "prob_30m": round(fleet_probability([s.prob_30m for s in scores]), 4),
        "prob_8h": round(fleet_probability([s.prob_8h for s in scores]), 4),
        "stale_servers": int(inputs.stale[ok].sum()),
        "insufficient_history": len(insufficient),
    }
    timestamp = iso(generated_at)
    document = {
        "timestamp": timestamp,
        "generated_at": round(generated_at, 3),
        "data_timestamp": iso(inputs.end_slots.max() * SLOT_SECONDS),
        "tick": snapshot.tick,
        "model": {"version": forecaster.version, "device": forecaster.device},
        "summary": summary,
        "predictions": predictions,
        "alerts": alerts,
        "insufficient_history": insufficient,
    }
    return document, {"timestamp": timestamp, "tick": snapshot.tick, "count": len(alerts), "alerts": alerts}


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
