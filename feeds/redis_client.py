"""One Redis connection pool per process, built from settings.REDIS_URL.

Short timeouts: when Redis is gone a request fails fast with 503 instead of hanging, and the
pool reconnects by itself once Redis is back (no restart needed)."""
from functools import lru_cache

import redis
from django.conf import settings
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

# What a lost, refused or timed-out Redis raises; views turn these into 503.
REDIS_DOWN_ERRORS = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError)


@lru_cache(maxsize=4)
def _client(url: str, timeout: float) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        health_check_interval=30,
        # A brief blip is retried; an outage fails within a few timeouts, not minutes.
        retry=Retry(ExponentialBackoff(cap=0.2, base=0.02), retries=2),
    )


def get_redis() -> redis.Redis:
    return _client(settings.REDIS_URL, settings.ARGUS_REDIS_TIMEOUT)


def redis_reachable() -> bool:
    try:
        return bool(get_redis().ping())
    except REDIS_DOWN_ERRORS:
        return False


@lru_cache(maxsize=None)
def _registered(client: redis.Redis, source: str):
    return client.register_script(source)


def run_script(source: str, keys, args):
    """Runs a Lua script by its SHA (re-sending its source after a Redis restart)."""
    client = get_redis()
    return _registered(client, source)(keys=keys, args=args)
