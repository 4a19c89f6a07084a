"""Rate limits per API key, counted in Redis so every web process shares them.

A sliding-window log (one sorted set of request times per key and scope) checked and updated
by one Lua script (core/lua/rate_sliding_window.lua) on Redis's clock: exact under any
concurrency and across any number of web processes, with no burst at window edges. The same
script counts the key's use (core.key_usage): usage costs a request no extra round trip."""
import math

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from . import key_usage, keys
from .rates import parse_rate
from .redis import clock_arg, lua, run_script

SLIDING_WINDOW = lua("clock", "key_usage", "rate_sliding_window")


def take(team_id, scope: str, key_prefix: str, count: int, period_seconds: int, now_ms=None) -> int:
    """Counts one request of the key if it is within its limit: 0, else the ms to wait. Either
    way the request counts as a use of the key (core.key_usage)."""
    team = keys.team(team_id)
    return run_script(SLIDING_WINDOW, [*team.rate(scope, key_prefix), team.usage(key_prefix)],
                      [count, period_seconds * 1000, clock_arg(now_ms), *key_usage.script_args()])


def rate_for(team, scope: str):
    """(count, period) of a scope: the team's override from admin, else the server default."""
    return parse_rate(getattr(team, f"rate_{scope}") or getattr(settings, f"ARGUS_RATE_{scope.upper()}"))


class KeyRateThrottle(BaseThrottle):
    """Limits each API key per scope. Views set `rate_scope` to "feed", "read" or "admin"."""

    def allow_request(self, request, view):
        key = request.auth
        if key is None:
            return True  # keyless endpoints (/health, public /status) are not metered per key
        count, period = rate_for(key.team, view.rate_scope)
        wait_ms = take(key.team_id, view.rate_scope, key.prefix, count, period)
        self._wait = math.ceil(wait_ms / 1000) if wait_ms else None
        return not wait_ms

    def wait(self):
        return self._wait
