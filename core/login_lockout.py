"""Locks a username out of password login after repeated failures (the Django admin).

ARGUS_LOGIN_MAX_FAILURES wrong passwords for one username within ARGUS_LOGIN_LOCKOUT_SECONDS
lock that username for the rest of that window, whatever password comes next: guessing a
password is then a few tries per quarter hour, not thousands. Counted per username, not per
client address: behind a proxy every client shares one address. Counters live in Redis, so the
limit holds across web processes; if Redis is unavailable logins are not counted (logged), so
an operator can still reach the admin during an outage."""
import hashlib
import logging

import redis
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from . import keys
from .redis import get_redis, redis_unavailable

log = logging.getLogger(__name__)


def _failures_key(username) -> str:
    # hashed: a username is whatever a client typed, of any length
    return keys.login_failures(hashlib.sha256(str(username).encode("utf-8", "replace")).hexdigest())


class LockoutModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get("username")
        key = _failures_key(username)
        try:
            if int(get_redis().get(key) or 0) >= settings.ARGUS_LOGIN_MAX_FAILURES:
                log.warning("login refused: too many failures for one username")
                raise PermissionDenied  # no other backend tries either
            user = super().authenticate(request, username=username, password=password, **kwargs)
            if user is None:
                pipe = get_redis().pipeline()
                pipe.incr(key)
                pipe.ttl(key)
                count, ttl = pipe.execute()
                if ttl < 0:  # the first failure starts the window
                    get_redis().expire(key, settings.ARGUS_LOGIN_LOCKOUT_SECONDS)
            else:
                get_redis().delete(key)
            return user
        except redis.RedisError as exc:
            if not redis_unavailable(exc):
                raise
            log.warning("login failures not counted: Redis unavailable")
            return super().authenticate(request, username=username, password=password, **kwargs)
