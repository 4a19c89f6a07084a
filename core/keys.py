"""Every Redis key Argus uses is built here, and nowhere else.

Every key starts with the installation's prefix (ARGUS_REDIS_PREFIX, default `argus`), so two
installations, or a database recreated with the same team ids, can share one Redis without
reading each other's data (Celery's queues carry it too: settings.CELERY_BROKER_TRANSPORT_OPTIONS).
Per-team keys carry the team in a hash tag (`<prefix>:{<team>}:...`), so a team's keys live on
one Redis Cluster shard and every multi-key script of a team stays on that shard:

  meta           hash: tick (accepted batches), points (points held), updated (last batch, ms)
  seen           zset: server -> last arrival (ms, Redis clock), for the server TTL
  counts         hash: server -> points held
  new            zset: server -> when it was first seen (ms), for the last hour only
                 (ARGUS_MAX_NEW_SERVERS_PER_HOUR)
  w:<server>     list of packed records sorted by slot (feeds.windows)
  rate:<scope>:<key prefix>[:n]   a key's sliding-window log and its sequence (core.throttles)
  run:queued     set while a prediction run is queued; run:lock the running task's id
                 (inference.dispatch)
  predictions, alerts, predictions:meta   the cached documents (inference.cache)
  seasonal:<server>   a server's daily profile and blend weights (inference.seasonal_state)

Service-wide keys (not per team): the worker heartbeats (inference.worker), failed admin logins
per username (core.login_lockout).
"""

from django.conf import settings


def installation() -> str:
    """The prefix of every key of this installation (read per call: tests change it)."""
    return settings.ARGUS_REDIS_PREFIX


def workers() -> str:
    """zset: worker id -> last heartbeat (epoch s)."""
    return f"{installation()}:workers"


def workers_info() -> str:
    """hash: worker id -> {"model", "device"}."""
    return f"{installation()}:workers:info"


def login_failures(username_hash: str) -> str:
    """Failed password logins of one username in the current lockout window (a counter)."""
    return f"{installation()}:login-failures:{username_hash}"


class TeamKeys:
    """The keys of one team."""

    def __init__(self, team_id):
        self.prefix = f"{installation()}:{{{team_id}}}:"
        self.meta = self.prefix + "meta"
        self.seen = self.prefix + "seen"
        self.counts = self.prefix + "counts"
        self.new_servers = self.prefix + "new"
        self.window_prefix = self.prefix + "w:"
        self.run_queued = self.prefix + "run:queued"
        self.run_lock = self.prefix + "run:lock"
        self.predictions = self.prefix + "predictions"
        self.alerts = self.prefix + "alerts"
        self.predictions_meta = self.prefix + "predictions:meta"

    @property
    def pattern(self) -> str:
        """SCAN pattern matching every key of the team (the prefix has no glob characters:
        a team id is a number and the installation prefix is checked in settings)."""
        return self.prefix + "*"

    def window(self, server_name: str) -> str:
        return self.window_prefix + server_name

    def seasonal(self, server_name: str) -> str:
        return self.prefix + "seasonal:" + server_name

    def rate(self, scope: str, key_prefix: str) -> list:
        """[log, sequence] of one API key's rate limit in one scope."""
        base = f"{self.prefix}rate:{scope}:{key_prefix}"
        return [base, base + ":n"]

    @property
    def window_meta(self) -> list:
        """The three keys every window script takes first (core/lua/window_prune.lua)."""
        return [self.meta, self.seen, self.counts]


def team(team_id) -> TeamKeys:
    return TeamKeys(team_id)
