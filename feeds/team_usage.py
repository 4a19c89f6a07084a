"""A team's usage as the admin shows it: exactly what GET /status answers that team's keys
(servers tracked, last batch, warm-up, last prediction and whether it is stale, points stored),
assembled from every app's /status part (core.status), so the admin and the API never disagree
and feeds/ needs to import neither inference/ nor history/."""
import redis

from core import status
from core.redis import redis_unavailable


def team_usage(team):
    """The team's /status fields, or None when Redis cannot answer (the admin page still renders)."""
    request = status.StatusRequest(team)
    fields = {}
    try:
        for part in status.parts():
            fields.update(part.fields(request))
    except redis.RedisError as exc:
        if not redis_unavailable(exc):
            raise
        return None
    return fields
