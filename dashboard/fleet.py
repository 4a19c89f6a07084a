"""The fleet page's document: inference.fleet_view (every server's level and headline numbers,
the fleet summary, the active alerts: the numbers GET /predictions/current and GET
/alerts/active serve, from the same cached document), with the levels' colours and labels and
the prediction's age, or what the page waits for."""
import time

from django.conf import settings

from feeds.windows import team_stats
from inference.fleet_view import read_fleet_view

from .levels import LEVELS


def fleet_document(team) -> dict:
    """What /dashboard/api/fleet serves for a team: status "ok" with the fleet, else
    "insufficient_data" or "pending" (no prediction yet) with a message."""
    view = read_fleet_view(team.id)
    if view is None:
        points, need = team_stats(team.id).points, settings.ARGUS_WARMUP_RECORDS
        if points < need:
            return {"status": "insufficient_data", "team": team.slug,
                    "message": f"Waiting for data: need at least {need} records, have {points}"}
        return {"status": "pending", "team": team.slug, "message": "The first predictions are being computed"}
    # the age is the wall-clock time since the run, so it is computed per request
    return {"status": "ok", **view, "team": team.slug, "levels": LEVELS,
            "age_seconds": round(max(0.0, time.time() - view["generated_at"]), 1),
            "stale_after_seconds": settings.ARGUS_PREDICTIONS_STALE_SECONDS}
