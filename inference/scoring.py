"""Risk scoring: forecast quantiles -> per-server risk 0-100, alert level and messages.

Pure numpy, no Django, no torch. The scheme is documented in docs/risk_scoring.md; in short,
for each forecast metric and server:

  breached now (last observed value >= threshold)       risk 100
  P50 crosses the threshold within 30 minutes            risk 80-99 (sooner = higher)  critical
  P50 crosses it later within the 8-hour horizon         risk 60-79 (sooner = higher)  warning
  only P90 crosses it within the horizon                 risk 50-59 (sooner = higher)  degraded
  no quantile crosses                                    risk 0-49 by how close P90 comes

CLOSE_WAIT counts are not forecast by the model; they are scored the same way on their fitted
line (inference.trend.connection_lines), which serves as P50 and P90 alike.

A server's risk is its worst metric's. Thresholds depend on the server profile: a database at
95% memory is normal (it caches), a web server there is not.
"""
from dataclasses import dataclass

import numpy as np

from feeds.schema import SLOT_SECONDS

from .model.features import TARGETS
STEP_MINUTES = SLOT_SECONDS // 60

THRESHOLDS = {
    "cpu_pct": 90.0,
    "mem_used_pct": 90.0,
    "cpu_iowait_pct": 25.0,
    "swap_used_pct": 50.0,
    "load_average": 16.0,
    "disk_usage_pct": 90.0,
    # sockets left in CLOSE_WAIT: the application stopped closing connections
    "back_close_wait": 500.0,
    "front_close_wait": 500.0,
}
PROFILE_THRESHOLDS = {
    # databases keep their cache in memory and wait on disk more; swapping hurts them early
    "database": {"mem_used_pct": 98.0, "cpu_iowait_pct": 35.0, "swap_used_pct": 25.0},
    # training and scoring jobs run CPUs flat out by design
    "ml_compute": {"cpu_pct": 98.0, "mem_used_pct": 95.0, "load_average": 32.0},
    "risk_analytics": {"cpu_pct": 95.0, "load_average": 24.0},
    # pipelines stream through disk
    "data_ingest": {"cpu_iowait_pct": 35.0, "disk_usage_pct": 92.0},
    # latency-sensitive front ends get less headroom
    "web_api": {"cpu_pct": 85.0, "mem_used_pct": 85.0},
}
PROBLEMS = {
    "cpu_pct": "CPU saturation",
    "mem_used_pct": "Memory exhaustion",
    "cpu_iowait_pct": "I/O wait storm",
    "swap_used_pct": "Heavy swapping",
    "load_average": "Load overload",
    "disk_usage_pct": "Disk full",
    "back_close_wait": "Connection leak (back end)",
    "front_close_wait": "Connection leak (front end)",
}
LEVELS = (  # (lowest risk, level, colour, emoji, label), as the original engine's API documents
    (80, "critical", "#FF0000", "🔴", "Critical"),
    (60, "warning", "#FFA500", "🟠", "Warning"),
    (50, "degraded", "#FFD700", "🟡", "Degraded"),
    (0, "healthy", "#00FF00", "🟢", "Healthy"),
)
SOON_MINUTES = 30
HORIZON_MINUTES = 8 * 60


def threshold(profile: str, target: str) -> float:
    return PROFILE_THRESHOLDS.get(profile, {}).get(target, THRESHOLDS[target])


def level_of(risk: float) -> dict:
    score = int(round(risk))  # the level always agrees with the score shown beside it
    for lowest, level, color, emoji, label in LEVELS:
        if score >= lowest:
            return {"level": level, "score": score, "color": color, "emoji": emoji, "label": label}
    raise ValueError(f"risk {risk} below 0")


def first_crossing(series: np.ndarray, limit: float):
    """Minutes ahead of the first step at or above `limit` (step 1 = 5 minutes), or None."""
    hits = np.flatnonzero(series >= limit)
    return int(hits[0] + 1) * STEP_MINUTES if len(hits) else None


def metric_risk(current: float, p50: np.ndarray, p90: np.ndarray, limit: float):
    """(risk 0-100, minutes to the breach or None, which evidence: now / p50 / p90 / None)."""
    if current >= limit:
        return 100.0, 0, "now"
    t50 = first_crossing(p50, limit)
    if t50 is not None:
        if t50 <= SOON_MINUTES:
            return 80 + 19 * (1 - t50 / SOON_MINUTES), t50, "p50"
        return 60 + 19 * (1 - (t50 - SOON_MINUTES) / (HORIZON_MINUTES - SOON_MINUTES)), t50, "p50"
    t90 = first_crossing(p90, limit)
    if t90 is not None:
        return 50 + 9 * (1 - t90 / HORIZON_MINUTES), t90, "p90"
    closeness = (float(np.max(p90)) / limit - 0.6) / 0.4  # 0 at 60% of the limit, 1 at it
    return 49 * min(1.0, max(0.0, closeness)), None, None


def exceedance(q10, q50, q90, limit):
    """P(value >= limit) per element, from three quantiles: a piecewise-linear CDF through
    (q10, 0.1), (q50, 0.5), (q90, 0.9), reaching 0 and 1 one half-band beyond the outer ones."""
    knots = np.stack([q10 - (q50 - q10), q10, q50, q90, q90 + (q90 - q50)], axis=-1)
    knots = np.maximum.accumulate(knots, axis=-1)  # crossed quantiles: keep the CDF monotone
    levels = (0.0, 0.1, 0.5, 0.9, 1.0)
    cdf = np.zeros(np.shape(q50))
    for k in range(4):  # each CDF segment below `limit` counts whole, the one it falls in partly
        x0, x1 = knots[..., k], knots[..., k + 1]
        width = x1 - x0
        part = np.where(width > 0, np.clip((limit - x0) / np.where(width > 0, width, 1), 0, 1), limit >= x1)
        cdf += (levels[k + 1] - levels[k]) * part
    return 1.0 - cdf


def humanize_minutes(minutes: int) -> str:
    if minutes == 0:
        return "now"
    hours, mins = divmod(minutes, 60)
    if not hours:
        return f"{mins} minutes"
    text = f"{hours} hour{'s' if hours > 1 else ''}"
    return f"{text} {mins} minutes" if mins else text


@dataclass
class ServerScore:
    risk: float
    alert: dict
    metrics: dict  # target -> {risk, threshold, minutes_to_issue, evidence}
    problems: list  # alert dicts for metrics at degraded or worse, worst first
    prob_30m: float
    prob_8h: float


def score_server(name: str, profile: str, current: np.ndarray, forecast: np.ndarray,
                 quantiles=(0.1, 0.5, 0.9), lines: dict | None = None) -> ServerScore:
    """current: [len(TARGETS)] last observed values; forecast: [96, len(TARGETS), len(quantiles)];
    lines: {metric: (last value, fitted line [96])} for metrics scored on a line, not forecast."""
    i10, i50, i90 = (quantiles.index(q) for q in (0.1, 0.5, 0.9))
    bands = {target: (float(current[t]), forecast[:, t, i10], forecast[:, t, i50], forecast[:, t, i90])
             for t, target in enumerate(TARGETS)}
    bands.update({metric: (float(last), line, line, line) for metric, (last, line) in (lines or {}).items()})
    metrics, problems = {}, []
    p30 = p8h = 0.0
    soon = SOON_MINUTES // STEP_MINUTES
    for target, (now, q10, q50, q90) in bands.items():
        limit = threshold(profile, target)
        risk, minutes, evidence = metric_risk(now, q50, q90, limit)
        metrics[target] = {"risk": round(risk, 1), "threshold": limit, "minutes_to_issue": minutes,
                           "evidence": evidence}
        p_step = exceedance(q10, q50, q90, limit) if evidence != "now" else np.ones(len(q50))
        p30, p8h = max(p30, float(p_step[:soon].max())), max(p8h, float(p_step.max()))
        if risk >= 50:
            problems.append(alert_for(name, profile, target, risk, minutes, evidence, now, limit))
    problems.sort(key=lambda a: -a["risk_score"])
    risk = max(m["risk"] for m in metrics.values())
    return ServerScore(risk, level_of(risk), metrics, problems, p30, p8h)


def alert_for(name, profile, target, risk, minutes, evidence, current, limit):
    problem = PROBLEMS[target]
    if evidence == "now":
        message = f"{problem} now: {target} is {current:.1f}, at or above {limit:g}"
    elif evidence == "p50":
        message = f"{problem} predicted in {humanize_minutes(minutes)}"
    else:
        message = f"{problem} possible in {humanize_minutes(minutes)} (P90 forecast)"
    return {"server_name": name, "level": level_of(risk)["level"], "risk_score": int(round(risk)),
            "profile": profile, "metric": target, "message": message,
            "time_to_issue": humanize_minutes(minutes), "minutes_to_issue": minutes}


def fleet_probability(per_server) -> float:
    """P(at least one breach) treating servers as independent."""
    return float(1.0 - np.prod([1.0 - p for p in per_server])) if per_server else 0.0
