"""Request and response shapes for the OpenAPI schema (documentation only: the feed view
validates with feeds.records, which is stricter and much faster than serializers)."""
from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from .records import MAX_SERVER_NAME
from .schema import INTEGER_METRICS, METRICS, OPEN_METRIC_MAXIMA, PERCENT_METRICS, STATUSES, UPTIME_CAP_DAYS

# What feeds.records accepts, as JSON Schema patterns: no control characters and no lone
# surrogates in a server name; a date, a time and an optional zone in a timestamp (its
# calendar and clock bounds are checked by the view, beyond what a pattern can say).
SERVER_NAME_PATTERN = r"^[^\x00-\x1f\x7f\ud800-\udfff]+$"
TIMESTAMP_PATTERN = (r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?"
                     r"(Z|[+-]\d{2}:\d{2})?$")


def _metric_field(name):
    if name == "uptime_days":
        return serializers.IntegerField(min_value=0, help_text=f"Days since last reboot; values above {UPTIME_CAP_DAYS} are stored as {UPTIME_CAP_DAYS}.")
    if name in INTEGER_METRICS:
        return serializers.IntegerField(min_value=0, max_value=OPEN_METRIC_MAXIMA[name])
    if name in PERCENT_METRICS:
        return serializers.FloatField(min_value=0, max_value=100)
    return serializers.FloatField(min_value=0, max_value=OPEN_METRIC_MAXIMA[name])


MetricRecord = type("MetricRecord", (serializers.Serializer,), {
    "__doc__": "One server's metrics at one time. All 16 fields are required; numbers must be "
               "JSON numbers (not strings, booleans, null, NaN or Infinity).",
    "timestamp": serializers.RegexField(
        TIMESTAMP_PATTERN,
        help_text="ISO 8601 date and time, e.g. 2025-01-15T10:00:00 or 2025-01-15T10:00:00+02:00; "
                  "no zone means UTC. A real date from 2000 on, at most 1 hour ahead of the server "
                  "clock (ARGUS_MAX_FUTURE_SECONDS). Floored to the 5-minute grid."),
    "server_name": serializers.RegexField(
        SERVER_NAME_PATTERN, min_length=1, max_length=MAX_SERVER_NAME,
        help_text="Unique server identifier: 1-128 characters, no control characters; its prefix "
                  "selects the profile (ppdb, ppml, ppapi, ppcond, ppetl, pprisk)."),
    "status": serializers.ChoiceField(choices=STATUSES),
    **{m: _metric_field(m) for m in METRICS},
})


class FeedRequest(serializers.Serializer):
    records = MetricRecord(many=True, help_text="At most ARGUS_MAX_RECORDS (10,000) records and ARGUS_MAX_BODY_BYTES (16 MB) per request.")


class FeedAccepted(serializers.Serializer):
    status = serializers.ChoiceField(choices=["accepted", "warming_up"])
    records_received = serializers.IntegerField()
    tick = serializers.IntegerField(help_text="The team's accepted batches so far.")
    rolling_window_size = serializers.IntegerField(help_text="Points the team holds in its rolling windows.")
    warmup_complete = serializers.BooleanField()
    progress = serializers.CharField(required=False, help_text='Only while warming up, e.g. "45% (need 100 records minimum)".')
    warnings = serializers.ListField(child=serializers.CharField(), required=False, help_text="Unknown fields that were ignored.")


class FeedIgnored(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ignored"])
    reason = serializers.CharField()


# 200 answers either shape: a stored batch, or an empty one ignored.
FeedResult = PolymorphicProxySerializer(component_name="FeedResult", serializers=[FeedAccepted, FeedIgnored],
                                        resource_type_field_name=None)


class FeedError(serializers.Serializer):
    status = serializers.ChoiceField(choices=["error"])
    message = serializers.CharField()
    errors = serializers.ListField(child=serializers.CharField(), required=False,
                                   help_text='One line per problem: "records[3] (ppdb003).mem_used_pct: 140.0 is above the maximum 100".')


class ServerForgotten(serializers.Serializer):
    status = serializers.ChoiceField(choices=["forgotten"])
    server_name = serializers.CharField()
    points_removed = serializers.IntegerField()
