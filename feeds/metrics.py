"""What POST /feed/data did with each batch, for /metrics (core.metrics).

Counted from the answer the view gives, so the view's code stays as it is: a rejected batch's
reason is its status code (and, for a 422, whether it carries field errors). Records are counted
where the view knew them: a malformed, oversized or cut-off body has no records to count (its
batch is counted). Team labels are slugs: one series per team and outcome, bounded by the teams."""
from functools import wraps

from prometheus_client import Counter

from core.metrics import PROCESS_REGISTRY
from core.redis import redis_unavailable

RECORDS_ACCEPTED = Counter(
    "argus_feed_records_accepted", "Records stored by POST /feed/data.", registry=PROCESS_REGISTRY)
RECORDS_REJECTED = Counter(
    "argus_feed_records_rejected", "Records in batches POST /feed/data refused (a batch is refused whole), by "
    "reason.", ["reason"], registry=PROCESS_REGISTRY)
BATCHES = Counter(
    "argus_feed_batches", "Batches sent to POST /feed/data by team and result (accepted, warming_up, ignored, "
    "or the reason it was rejected).", ["team", "result"], registry=PROCESS_REGISTRY)

# The view's refusals, by status code: what the client did wrong.
REASONS = {400: "malformed", 408: "body_timeout", 413: "too_large", 422: "server_limit", 429: "new_server_limit"}


def result_of(response) -> str:
    if response.status_code == 200:
        return response.data.get("status", "accepted")  # accepted, warming_up or ignored
    if response.status_code == 422 and "errors" in response.data:
        return "invalid"  # field-level validation errors
    return REASONS.get(response.status_code, f"http_{response.status_code}")


def count_feed_outcome(post):
    """Wraps FeedDataView.post: counts its batch and records by outcome. A Redis outage (the 503
    the exception handler gives) is counted as `storage_unavailable`, then re-raised."""

    @wraps(post)
    def counted(view, request, *args, **kwargs):
        team = request.auth.team.slug
        try:
            response = post(view, request, *args, **kwargs)
        except Exception as exc:
            BATCHES.labels(team=team, result="storage_unavailable" if redis_unavailable(exc) else "error").inc()
            raise
        result = result_of(response)
        BATCHES.labels(team=team, result=result).inc()
        if result in ("accepted", "warming_up"):
            RECORDS_ACCEPTED.inc(response.data["records_received"])
        elif result != "ignored":
            RECORDS_REJECTED.labels(reason=result).inc(getattr(request, "feed_records", 0))
        return response

    return counted
