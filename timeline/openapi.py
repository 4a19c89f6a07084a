"""Shapes and parameters of GET /alerts/history, for the OpenAPI schema (documentation only)."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from .models import EVENTS

# worst first, as /predictions/current's alert badge lists them: one named enum for both (settings)
LEVELS = ("critical", "warning", "degraded", "healthy")
from .params import DEFAULT_LIMIT, MAX_LIMIT

SINCE = OpenApiParameter("since", OpenApiTypes.STR, required=True, description="ISO 8601 date and time "
                         "(no zone means UTC): the oldest event returned (inclusive).")
UNTIL = OpenApiParameter("until", OpenApiTypes.STR, description="ISO 8601 date and time, exclusive. "
                         "Default: no upper bound.")
SERVER = OpenApiParameter("server", OpenApiTypes.STR, description="Only this server's events.")
LIMIT = OpenApiParameter("limit", OpenApiTypes.INT, description=f"Events per page, 1-{MAX_LIMIT}. "
                         f"Default {DEFAULT_LIMIT}.")
CURSOR = OpenApiParameter("cursor", OpenApiTypes.STR, description="The previous page's `next_cursor`: "
                          "the events after it.")


class AlertEventItem(serializers.Serializer):
    server_name = serializers.CharField()
    metric = serializers.CharField(help_text="The problem metric, e.g. mem_used_pct.")
    event = serializers.ChoiceField(choices=EVENTS)
    level = serializers.ChoiceField(choices=LEVELS, help_text="The level after the transition (healthy once resolved).")
    previous_level = serializers.ChoiceField(choices=LEVELS, allow_null=True, help_text="null for opened.")
    risk_score = serializers.IntegerField(min_value=0, max_value=100, help_text="The metric's risk in that run.")
    message = serializers.CharField(help_text="The run's message for the metric.")
    at = serializers.CharField(help_text="Data time of the run that made the transition, UTC.")


class AlertHistory(serializers.Serializer):
    count = serializers.IntegerField(help_text="Events in this page.")
    events = AlertEventItem(many=True, help_text="Newest first (by time, then by insertion).")
    next_cursor = serializers.CharField(allow_null=True, help_text="Pass as `cursor` for the next page; "
                                        "null on the last page.")
