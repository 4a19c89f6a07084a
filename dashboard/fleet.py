"""The fleet page's document: every server's level and headline numbers, the fleet summary and
the active alerts, without the forecasts (a tenth of a kilobyte a server instead of 35 KB, so a
1,000-server fleet refreshes in one small request).

The numbers are the ones GET /predictions/current and GET /alerts/active serve, read from the
same cached document: the page shows what the API says."""
import time

from django.conf import settings

from core import keys
from feeds.schema import profile_of
from feeds.windows import team_stats

from .levels import LEVELS
from .tick_cache import cached


def fleet_document(team) -> dict:
    """What /dashboard/api/fleet serves for a team: status "ok" with the fleet, else
    "insufficient_data" or "pending" (no prediction yet) with a message."""
    body = cached(keys.team(team.id).dashboard_fleet, team.id, _reduce)
    if body is None:
        points, need = team_stats(team.id).points, settings.ARGUS_WARMUP_RECORDS
        if points < need:
            return {"status": "insufficient_data", "team": team.slug,
                    "message": f"Waiting for data: need at least {need} records, have {points}"}
        return {"status": "pending", "team": team.slug, "message": "The first predictions are being computed"}
    # the age is the wall-clock time since the run, so it is computed per request
    return {**body, "team": team.slug, "age_seconds": round(max(0.0, time.time() - body["generated_at"]), 1),
            "stale_after_seconds": settings.ARGUS_PREDICTIONS_STALE_SECONDS}


def _reduce(document, generated_at) -> dict:
    servers = [
        {
            "name": name,
            "profile": entry["profile"],
            "level": entry["alert"]["level"],
            "score": entry["risk_score"],
            "cpu": entry["display_metrics"].get("cpu_pct"),
            "mem": entry["display_metrics"].get("mem_pct"),
            "disk": entry["display_metrics"].get("disk_pct"),
            "status": entry["display_metrics"].get("status"),
            "last_point": entry["last_point"],
            "stale": entry["stale"],
        }
        for name, entry in document["predictions"].items()
    ]
    waiting = [{"name": name, "profile": profile_of(name), "points": points}
               for name, points in document.get("insufficient_history", {}).items()]
    alerts = [{k: alert.get(k) for k in ("server_name", "metric", "level", "risk_score", "message",
                                          "time_to_issue", "minutes_to_issue", "since")}
              for alert in document["alerts"]]
    return {
        "status": "ok",
        "tick": document["tick"],
        "timestamp": document["timestamp"],
        "data_timestamp": document["data_timestamp"],
        "generated_at": generated_at,
        "model": document["model"]["version"],
        "summary": document["summary"],
        "levels": LEVELS,
        "servers": servers,
        "waiting": waiting,
        "alerts": alerts,
    }
