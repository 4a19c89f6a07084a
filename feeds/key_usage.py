"""API key usage as the admin shows it: read from Redis (core.key_usage counts it on the request
path), and each key's last use copied into the database as the admin lists keys, so that the
list's filters ("never used", "unused for 30 days") can query it and it outlives Redis's counters.
The feed itself never writes a row for it."""
from datetime import datetime, timezone

import redis

from core.key_usage import KeyUsage, read_usage
from core.redis import redis_unavailable

from .models import TeamAPIKey


def usage_by_key(api_keys):
    """key pk -> KeyUsage for the given TeamAPIKeys, or None when Redis cannot answer (the admin
    pages still render, without usage)."""
    api_keys = list(api_keys)
    try:
        found = read_usage((key.team_id, key.prefix) for key in api_keys)
    except redis.RedisError as exc:
        if not redis_unavailable(exc):
            raise
        return None
    return {key.pk: found[(key.team_id, key.prefix)] for key in api_keys}


def record_last_uses(api_keys=None):
    """Copies each key's last use from Redis into TeamAPIKey.last_used where Redis's is newer;
    every key unless `api_keys` is given. Returns usage_by_key's answer (None: Redis down,
    nothing copied)."""
    if api_keys is None:
        # `revoked` too: the library's model reads it as each instance is made (a query each if deferred)
        api_keys = TeamAPIKey.objects.only("pk", "prefix", "team_id", "last_used", "revoked")
    api_keys = list(api_keys)
    usage = usage_by_key(api_keys)
    if usage is None:
        return None
    changed = []
    for key in api_keys:
        used = last_used_at(usage[key.pk])
        if used is not None and (key.last_used is None or used > key.last_used):
            key.last_used = used
            changed.append(key)
    TeamAPIKey.objects.bulk_update(changed, ["last_used"], batch_size=500)
    return usage


def last_used_at(usage: KeyUsage):
    if usage.last_used_ms is None:
        return None
    return datetime.fromtimestamp(usage.last_used_ms / 1000, timezone.utc)
