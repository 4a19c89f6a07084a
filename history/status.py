"""history/'s part of GET /status (with a key): what is stored, what waits for the archiver,
what was lost."""
from django.db.models import Sum
from rest_framework import serializers

from core import keys
from core.redis import get_redis
from core.status import StatusPart, StatusRequest
from core.times import iso

from . import stream
from .models import ServerDay


class HistoryStatus(serializers.Serializer):
    history_points_stored = serializers.IntegerField(
        required=False, help_text="With a key: points the team's history holds in the database (ARGUS_HISTORY_DAYS).")
    history_pending_points = serializers.IntegerField(
        required=False, help_text="With a key: accepted points waiting in Redis for the archiver.")
    history_dropped_points = serializers.IntegerField(
        required=False, help_text="With a key: points never stored in history because the archiver "
        "fell more than ARGUS_HISTORY_BUFFER_SLOTS points per server behind (0 unless it stopped for long).")
    history_archived_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="With a key: when the archiver last completed a run.")


def history_status(request: StatusRequest) -> dict:
    if request.team is None:
        return {}
    state = stream.state(request.team.id)
    archived = get_redis().get(keys.history_archived())
    stored = ServerDay.objects.filter(team_id=request.team.id).aggregate(points=Sum("points"))["points"]
    return {"history_points_stored": stored or 0, "history_pending_points": state["pending"],
            "history_dropped_points": state["dropped"],
            "history_archived_at": iso(float(archived)) if archived else None}


PART = StatusPart(HistoryStatus, history_status)
