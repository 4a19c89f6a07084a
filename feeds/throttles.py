"""Rate limits per API key, counted in Redis so every web process shares them.

A sliding-window log (one sorted set of request times per key and scope) checked and updated
by one Lua script on Redis's clock: exact under any concurrency and across any number of web
processes, with no burst at window edges."""
import math
import re

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from .redis_client import run_script
from .windows import team_prefix

PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*([a-z]+)\s*$")

SLIDING_WINDOW = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  local n = redis.call('INCR', KEYS[2])
  redis.call('ZADD', KEYS[1], now, n)
  redis.call('PEXPIRE', KEYS[1], window)
  redis.call('PEXPIRE', KEYS[2], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(oldest[2]) + window - now
"""


def parse_rate(rate: str):
    """'60/min' -> (60, 60 seconds)."""
    match = RATE_RE.match(rate.lower())
    if not match or match.group(2) not in PERIODS:
        raise ValueError(f'Invalid rate {rate!r}: use "<count>/<sec|min|hour>", e.g. "60/min"')
    return int(match.group(1)), PERIODS[match.group(2)]


class KeyRateThrottle(BaseThrottle):
    """Limits each API key per scope. Views set `rate_scope` to "feed", "read" or "admin"."""

    def allow_request(self, request, view):
        key = request.auth
        if key is None:
            return True  # keyless endpoints (/health, public /status) are not metered per key
        scope = view.rate_scope
        count, period = parse_rate(getattr(key.team, f"rate_{scope}") or getattr(settings, f"ARGUS_RATE_{scope.upper()}"))
        base = f"{team_prefix(key.team_id)}rate:{scope}:{key.prefix}"
        wait_ms = run_script(SLIDING_WINDOW, keys=[base, base + ":n"], args=[count, period * 1000])
        self._wait = math.ceil(wait_ms / 1000) if wait_ms else None
        return not wait_ms

    def wait(self):
        return self._wait

