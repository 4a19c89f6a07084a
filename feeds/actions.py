"""Business actions of feeds/, as plain functions the views call (views stay thin)."""
import logging

import redis

from core import keys
from core.key_usage import forget_usage
from core.redis import get_redis, redis_unavailable

from .records import Batch
from .signals import batch_accepted, server_forgotten
from .windows import TeamStats, append_batch
from .windows import forget_server as forget_window

log = logging.getLogger(__name__)
PURGE_SCAN_COUNT = 1000  # keys per SCAN step and per UNLINK: no single call holds Redis long


def accept_batch(team_id, batch: Batch, limits=None) -> TeamStats:
    """Stores a validated batch in the team's windows, then announces it (inference listens and
    asks for a prediction run). The batch is stored whatever a listener does. Raises
    windows.LimitExceeded, storing nothing, if it would take the team past `limits`
    (Team.server_limits)."""
    stats = append_batch(team_id, batch, limits=limits)
    batch_accepted.send(sender=accept_batch, team_id=team_id, tick=stats.tick,
                        warmup_complete=stats.warmup_complete)
    return stats


def forget_server(team_id, server_name: str):
    """Drops a server's window now and announces it: inference removes it from the served
    predictions, history deletes its stored points. Announced even when the windows no longer
    hold it (silent past ARGUS_SERVER_TTL), since a listener may still keep some of it. Returns
    the points its window held, or None if neither the windows nor any listener had it."""
    held = forget_window(team_id, server_name)
    answers = server_forgotten.send(sender=forget_server, team_id=team_id, server_name=server_name)
    if held is None and not any(kept for _, kept in answers):
        return None
    return held or 0


def purge_team(team_id) -> int:
    """Deletes every Redis key of a team (windows, counters, rate limits, run state, cached
    predictions), a bounded step at a time. Returns the number of keys deleted."""
    client, deleted = get_redis(), 0
    batch = []
    for key in client.scan_iter(match=keys.team(team_id).pattern, count=PURGE_SCAN_COUNT):
        batch.append(key)
        if len(batch) >= PURGE_SCAN_COUNT:
            deleted += client.unlink(*batch)
            batch = []
    if batch:
        deleted += client.unlink(*batch)
    return deleted


def purge_deleted_team(sender, instance, **kwargs):
    """post_delete of a Team: its data goes with it. If Redis is unavailable it expires by
    itself (ARGUS_SERVER_TTL, ARGUS_PREDICTIONS_TTL); the keys carry a database id that a new
    team of this installation never reuses (except in a recreated database: see
    ARGUS_REDIS_PREFIX)."""
    try:
        log.info("team %s deleted: %d Redis keys purged", instance.pk, purge_team(instance.pk))
    except redis.RedisError as exc:
        if not redis_unavailable(exc):
            raise
        log.warning("team %s deleted but its Redis data was not purged (Redis unavailable); it expires by itself",
                    instance.pk)


def forget_deleted_key_usage(sender, instance, **kwargs):
    """post_delete of a TeamAPIKey: its usage counters go with it. If Redis is unavailable they
    expire by themselves (core.key_usage.LIFETIME_MS after the key's last use)."""
    try:
        forget_usage(instance.team_id, instance.prefix)
    except redis.RedisError as exc:
        if not redis_unavailable(exc):
            raise
        log.warning("API key %s deleted but its usage counters were not (Redis unavailable); they expire by "
                    "themselves", instance.prefix)
