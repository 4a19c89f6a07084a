"""Scripted prediction runs for the alert timeline: each run scores servers with forecasts built
to give a chosen level on cpu_pct (through the real scoring), then advances the timeline and
stores the documents exactly as inference.runner does."""
import numpy as np

from feeds.schema import SLOT_SECONDS
from inference import cache
from inference.alert_timeline import advance_timeline
from inference.model.features import TARGETS
from inference.scoring import score_server

CPU = TARGETS.index("cpu_pct")
FIRST_SLOT = 5_808_000  # 2025-03-19T16:00:00Z


def scored_at(level: str):
    """(current values, forecast [96, 6, P10/P50/P90]) that score_server rates `level` on cpu_pct
    (threshold 90) and healthy on every other metric."""
    current, forecast = np.ones(len(TARGETS)), np.ones((96, len(TARGETS), 3), dtype=np.float32)
    if level == "critical":
        current[CPU] = 95.0  # breached now
    elif level == "warning":
        forecast[47:, CPU, 1:] = 95.0  # P50 crosses in 4 hours
    elif level == "degraded":
        forecast[47:, CPU, 2] = 95.0  # only P90 crosses
    return current, forecast


def run(team_id, tick: int, levels: dict, known=None):
    """One run at data slot FIRST_SLOT + tick: {server: level}. Returns the /alerts/active document."""
    scores = [(name, score_server(name, "generic", *scored_at(level))) for name, level in sorted(levels.items())]
    alerts = sorted((a for _, s in scores for a in s.problems), key=lambda a: (-a["risk_score"], a["server_name"]))
    advance_timeline(team_id, tick, list(known or levels), scores, alerts, slot_of_tick(tick))
    document = {"tick": tick, "generated_at": 0.0, "model": {"version": "scripted"}, "alerts": alerts,
                "predictions": {}, "insufficient_history": {}}
    alerts_document = {"timestamp": "", "tick": tick, "count": len(alerts), "alerts": alerts}
    cache.store_predictions(team_id, document, alerts_document)
    return alerts_document


def slot_of_tick(tick: int) -> int:
    return FIRST_SLOT + tick


def at_of_tick(tick: int) -> str:
    from core.times import iso

    return iso(slot_of_tick(tick) * SLOT_SECONDS)
