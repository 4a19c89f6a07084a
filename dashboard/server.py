"""The server page's document: for each of the six forecast metrics, the actual values over a
range (the last day from the rolling window; 7 and 30 days from history, averaged into at most
MAX_POINTS points), the 8-hour forecast's P10, P50 and P90 and the alert threshold; the current
display metrics, the server's active alerts and its alert timeline.

The forecast, the display metrics and the alerts are the server's entry of the cached document
GET /predictions/current serves; the actuals are what GET /history/servers/<name> serves."""
import json

import numpy as np

from core import keys
from core.redis import get_redis
from core.times import iso
from feeds.schema import SLOT_SECONDS, SLOTS_PER_DAY, profile_of
from feeds.windows import read_server_windows
from history.params import Span
from history.reading import server_known, server_span
from inference import derived
from inference.model.features import TARGETS, target_array
from inference.scoring import threshold
from timeline.models import AlertEvent

RANGES = {"1d": 1, "7d": 7, "30d": 30}  # days
MAX_POINTS = 720  # per metric and range: a chart is under 1,000 pixels wide
TIMELINE_EVENTS = 50
LABELS = {"cpu_pct": "CPU %", "mem_used_pct": "Memory %", "cpu_iowait_pct": "I/O wait %",
          "swap_used_pct": "Swap %", "load_average": "Load average", "disk_usage_pct": "Disk %"}


class UnknownServer(Exception):
    """The team has no such server (another team's is unknown too)."""


def server_entry(team_id, name):
    """The server's entry of the cached predictions (with its alerts), or None.

    The first server page of a tick parses the prediction document once and keeps every server's
    entry, stamped with the tick, in one Redis hash (about the document's size, for an hour at
    most): at 1,000 servers the parse takes a second, which one viewer per tick pays, not every
    server page."""
    team = keys.team(team_id)
    client = get_redis()
    tick = derived.current_tick(team_id)
    if tick is None:
        return None
    stored_tick, entry = client.hmget(team.dashboard_servers, "tick", "s:" + name)
    if stored_tick is not None and int(stored_tick) == tick:
        return None if entry is None else json.loads(entry)
    predictions = derived.read_predictions(team_id)
    if predictions is None:
        return None
    document, tick = predictions
    entries = _entries(document)
    pipe = client.pipeline(transaction=True)
    pipe.delete(team.dashboard_servers)
    pipe.hset(team.dashboard_servers, mapping={"tick": tick, **{"s:" + n: json.dumps(e, separators=(",", ":"))
                                                                for n, e in entries.items()}})
    pipe.expire(team.dashboard_servers, derived.TTL_SECONDS)
    pipe.execute()
    return entries.get(name)


def _entries(document) -> dict:
    """server -> its entry with its alerts, the tick and the model; {"insufficient_history": points}
    for a server the model cannot forecast yet."""
    alerts = {}
    for alert in document["alerts"]:
        alerts.setdefault(alert["server_name"], []).append(alert)
    entries = {name: {"insufficient_history": points} for name, points in document.get("insufficient_history", {}).items()}
    for name, entry in document["predictions"].items():
        entries[name] = {**entry, "alerts": alerts.get(name, []), "tick": document["tick"],
                         "model": document["model"]["version"]}
    return entries


def server_exists(team_id, name) -> bool:
    """The team has the server: in its windows, its history or its cached predictions."""
    return server_known(team_id, name) or server_entry(team_id, name) is not None


def server_document(team_id, name, range_name="1d") -> dict:
    days = RANGES[range_name]
    entry = server_entry(team_id, name)
    window = read_server_windows(team_id, [name]).get(name)
    if entry is None and window is None and not server_known(team_id, name):
        raise UnknownServer(name)
    forecast = entry.get("forecast") if entry else None
    if window is not None and len(window):
        end_slot = int(window["slot"][-1]) + 1
    elif forecast:
        end_slot = _slot(forecast["timestamps"][0])
    else:
        end_slot = _latest_history_slot(team_id, name)
    actuals = _actuals(team_id, name, window, end_slot, days)
    profile = (entry or {}).get("profile") or profile_of(name)  # a server warming up has its thresholds too
    metrics = []
    for j, target in enumerate(TARGETS):
        metric = {"name": target, "label": LABELS[target], "actual": actuals[j], "threshold": threshold(profile, target)}
        if forecast:
            metric["forecast"] = {"start": forecast["timestamps"][0], "step_seconds": SLOT_SECONDS,
                                  **forecast["quantiles"][target]}
        metrics.append(metric)
    body = {"server_name": name, "range": range_name, "ranges": list(RANGES), "metrics": metrics,
            "timeline": timeline(team_id, name)}
    if entry and "forecast" in entry:
        body.update({k: entry[k] for k in ("profile", "risk_score", "alert", "display_metrics", "risks",
                                             "last_point", "stale", "gaps", "alerts", "tick", "model")})
        body["status"] = "ok"
    else:
        body["status"] = "insufficient_history"
        body["points"] = entry["insufficient_history"] if entry else None
    return body


def _slot(timestamp: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()) // SLOT_SECONDS


def _latest_history_slot(team_id, name) -> int:
    from history.models import ServerDay

    from history.days import first_slot

    row = ServerDay.objects.filter(team_id=team_id, server_name=name).order_by("-day").first()
    return first_slot(row.day) + SLOTS_PER_DAY if row else 0


def _actuals(team_id, name, window, end_slot, days):
    """[{"start", "step_seconds", "values"}] per target: the `days` before end_slot, NaN -> None."""
    n = days * SLOTS_PER_DAY
    first = end_slot - n
    if days == 1 and window is not None:
        values = np.full((n, window["values"].shape[1]), np.nan, np.float32)
        keep = window["slot"] >= first
        values[window["slot"][keep] - first] = window["values"][keep]
    else:
        _present, _statuses, values = server_span(team_id, name, Span(first, end_slot))
    targets = target_array(values)  # [n, 6]
    bucket = -(-n // MAX_POINTS)
    if bucket > 1:  # the mean of each bucket of slots (NaN where a bucket holds no point)
        usable = n // bucket * bucket
        targets = targets[n - usable:].reshape(-1, bucket, targets.shape[1])
        with np.errstate(all="ignore"):
            counts = np.isfinite(targets).sum(axis=1)
            targets = np.where(counts > 0, np.nansum(targets, axis=1) / np.maximum(counts, 1), np.nan)
        first = end_slot - usable
    return [{"start": iso(first * SLOT_SECONDS), "step_seconds": SLOT_SECONDS * bucket,
             "values": [None if not np.isfinite(v) else round(float(v), 2) for v in targets[:, j]]}
            for j in range(targets.shape[1])]


def timeline(team_id, name) -> list:
    """The server's newest alert transitions, newest first."""
    rows = (AlertEvent.objects.filter(team_id=team_id, server_name=name).order_by("-at", "-id")
            .values("metric", "event", "level", "previous_level", "risk_score", "message", "at")[:TIMELINE_EVENTS])
    return [{**row, "at": iso(row["at"].timestamp())} for row in rows]
