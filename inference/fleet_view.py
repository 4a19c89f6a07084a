"""The fleet at a glance: each server's level, score and headline metrics, the fleet summary
and the active alerts, from a team's prediction document without its forecasts (about 200
bytes a server instead of 35 KB). The dashboard's fleet page shows it.

A run writes it beside the predictions, from the document it has just built, so that no reader
has to parse the whole prediction document (seconds at 1,000 servers) to draw the fleet; a
reader that finds it missing or from another tick builds it once for the tick (inference.derived)."""
from core import keys
from feeds.schema import profile_of

from . import derived

ALERT_FIELDS = ("server_name", "metric", "level", "risk_score", "message", "time_to_issue", "minutes_to_issue", "since")


def server_row(name, entry) -> dict:
    """One server's line of the fleet view, from its prediction entry (a run makes it with the
    entry, staleness included once the merge has judged it: inference.assembly)."""
    return {
        "name": name,
        "profile": entry["profile"],
        "level": entry["alert"]["level"],
        "score": entry["risk_score"],
        "cpu": entry["display_metrics"].get("cpu_pct"),
        "mem": entry["display_metrics"].get("mem_pct"),
        "disk": entry["display_metrics"].get("disk_pct"),
        "status": entry["display_metrics"].get("status"),
        "last_point": entry["last_point"],
        "stale": entry.get("stale", False),
    }


def fleet_view(document) -> dict:
    return view_of(document, [server_row(name, entry) for name, entry in document["predictions"].items()])


def view_of(document, servers: list) -> dict:
    """The fleet view from a document's head (everything but its predictions) and the servers' rows."""
    waiting = [{"name": name, "profile": profile_of(name), "points": points}
               for name, points in document.get("insufficient_history", {}).items()]
    return {
        "tick": document["tick"],
        "timestamp": document["timestamp"],
        "data_timestamp": document["data_timestamp"],
        "generated_at": document["generated_at"],
        "model": document["model"]["version"],
        "summary": document["summary"],
        "servers": servers,
        "waiting": waiting,
        "alerts": [{k: alert.get(k) for k in ALERT_FIELDS} for alert in document["alerts"]],
    }


def store_fleet_view(team_id, tick, view):
    """Called by a run once its document is stored."""
    derived.store(keys.team(team_id).fleet_view, tick, view)


def read_fleet_view(team_id):
    """The fleet view of the team's current predictions, or None before the first."""
    return derived.cached(keys.team(team_id).fleet_view, team_id, fleet_view)
