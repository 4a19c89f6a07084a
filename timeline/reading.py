"""The alert events of a team, newest first, a page at a time."""
from django.db.models import Q

from core.times import iso

from .models import AlertEvent
from .params import Cursor, HistoryQuery

FIELDS = ("id", "server_name", "metric", "event", "level", "previous_level", "risk_score", "message", "at")


def history_page(team_id, query: HistoryQuery) -> dict:
    events = AlertEvent.objects.filter(team_id=team_id, at__gte=query.since)
    if query.until is not None:
        events = events.filter(at__lt=query.until)
    if query.server is not None:
        events = events.filter(server_name=query.server)
    if query.cursor is not None:
        c = query.cursor
        events = events.filter(Q(at__lt=c.at) | Q(at=c.at, id__lt=c.event_id))
    rows = list(events.order_by("-at", "-id").values(*FIELDS)[:query.limit + 1])
    more = len(rows) > query.limit
    rows = rows[:query.limit]
    return {
        "count": len(rows),
        "events": [{**{k: row[k] for k in FIELDS[1:-1]}, "at": iso(row["at"].timestamp())} for row in rows],
        "next_cursor": str(Cursor(rows[-1]["at"], rows[-1]["id"])) if more else None,
    }
