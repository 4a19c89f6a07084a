"""Shapes and parameters of the history endpoints, for the OpenAPI schema (documentation only)."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from feeds.schema import INTEGER_METRICS, METRICS, STATUSES

from .params import MAX_SERVERS, MAX_SPAN

START = OpenApiParameter(
    "start", OpenApiTypes.STR, description="ISO 8601 date and time (no zone means UTC), floored to the "
    "5-minute grid. Default: a day before `end`.")
END = OpenApiParameter(
    "end", OpenApiTypes.STR, description="ISO 8601 date and time, exclusive. Default: now. At most "
    f"{MAX_SPAN.days} days after `start`.")
METRICS_PARAM = OpenApiParameter(
    "metrics", OpenApiTypes.STR, description=f"Comma-separated metric names. Default: all {len(METRICS)}.")
SERVERS = OpenApiParameter(
    "servers", OpenApiTypes.STR, description=f"Comma-separated server names (at most {MAX_SERVERS}). "
    "Default: every server with points in the range.")


def _metric_series(name):
    child = serializers.IntegerField(allow_null=True) if name in INTEGER_METRICS else serializers.FloatField(allow_null=True)
    return serializers.ListField(child=child, required=False)


ServerMetrics = type("ServerMetrics", (serializers.Serializer,), {
    "__doc__": "One list per requested metric, a value per timestamp, null where no point was stored.",
    **{name: _metric_series(name) for name in METRICS},
})


class ServerHistory(serializers.Serializer):
    server_name = serializers.CharField()
    step_seconds = serializers.IntegerField(help_text="300: one slot per 5 minutes.")
    start = serializers.CharField(help_text="The first slot, UTC.")
    end = serializers.CharField(help_text="The end of the range (exclusive), UTC.")
    timestamps = serializers.ListField(child=serializers.CharField(), help_text="Every slot of the range.")
    metrics = ServerMetrics()
    status = serializers.ListField(child=serializers.ChoiceField(choices=STATUSES, allow_null=True),
                                   help_text="The status sent with each point, null where none was stored.")
