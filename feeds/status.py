"""feeds/' part of GET /status: the team's feed state (with a key only)."""
from rest_framework import serializers

from core.status import StatusPart, StatusRequest
from core.times import iso

from .windows import team_stats


class FeedStatus(serializers.Serializer):
    team = serializers.CharField(required=False, help_text="With a key: the key's team.")
    rolling_window_size = serializers.IntegerField(required=False, help_text="Points the team holds.")
    tick_count = serializers.IntegerField(required=False, help_text="Batches the team has sent.")
    servers_tracked = serializers.IntegerField(required=False)
    warmup_complete = serializers.BooleanField(required=False)
    last_batch_at = serializers.DateTimeField(required=False, allow_null=True,
                                              help_text="With a key: when the team's last batch was accepted.")


def feed_status(request: StatusRequest) -> dict:
    if request.team is None:
        return {}
    stats = request.once("team_stats", lambda: team_stats(request.team.id))
    return {"team": request.team.slug, "rolling_window_size": stats.points,
            "tick_count": stats.tick, "servers_tracked": stats.servers,
            "warmup_complete": stats.warmup_complete,
            "last_batch_at": iso(stats.updated_ms / 1000) if stats.updated_ms else None}


PART = StatusPart(FeedStatus, feed_status)
