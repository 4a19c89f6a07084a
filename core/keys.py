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
  usage:<key prefix>  hash: an API key's last use and its uses per 10 minutes over the last day
                      (core.key_usage; counted by the rate-limit script, no extra round trip)
  run:queued     set while a prediction run is queued; run:lock the running task's id
                 (inference.dispatch)
  run:<run>:plan, run:<run>:claims, run:<run>:parts, run:<run>:done
                 one sharded run (inference.sharding; <run> is its coordinator's task id): the
                 plan (hash: the run's head and each shard's servers), who holds which shard
                 (hash: shard -> lease end, holder, worker), the parts stored so far (hash:
                 "p:<shard>" entries, "m:<shard>" the rest, about 35 KB a server) and which
                 shards are done (set). All four expire with the plan (ARGUS_RUN_TIME_LIMIT + a
                 minute) and are deleted once the run's document is published
  run:stats      the team's last run in figures: each shard's servers, seconds and worker, the
                 merge's seconds (inference.assembly)
  predictions, alerts, predictions:meta   the cached documents (inference.cache)
  seasonal:<server>   a server's daily profile and blend weights (inference.seasonal_state)
  history:stream      stream: every accepted point, one entry per batch, appended by the batch's
                      script (feeds.windows) and drained into the database by the archiver
                      (history.archiver); bounded by ARGUS_HISTORY_BUFFER_SLOTS points per server
  history:state       hash: pending (points in the stream), dropped (points trimmed from the
                      stream before the archiver took them)
  history:forgotten   hash: server -> the last stream id when it was forgotten (the archiver skips
                      its older points)
  history:lock        the archiver run that holds the team (a lease)
  alerts:state        hash: "<metric>\t<server>" -> an open alert's level, opening slot and
                      hysteresis count (timeline.state); "tick" -> the run that wrote it last
  accuracy:pending    hash: server -> forecasts waiting for their actual values (inference.accuracy)
  accuracy:sums       hash: "<day>:<metric>:<horizon>:<sum>" -> a day's accuracy sums (inference.accuracy)
  fleet-view          the fleet view of the cached predictions, for their tick (inference.fleet_view)
  dashboard:servers   hash: "tick" and, per server, its entry of the cached predictions for that
                      tick (dashboard.server)
  explain:<server>    a server's explanation for the tick it was computed at (inference.explaining)
  model:fallback      the last run could not use the team's active model: which it wanted, which
                      it used and why (registry.serving); deleted by the next run that could
  notify:outbox       list: the alert transitions runs pushed, waiting for the notifier (notify.outbox);
                      bounded by ARGUS_NOTIFY_OUTBOX_MAX
  notify:queued       set while a notifier task for the team waits in the `notify` queue
  notify:lock         the notifier task that holds the team (a lease)
  notify:alertmanager hash: "<metric>\t<server>" -> the alert as Alertmanager was last told it
                      (notify.alertmanager_state), re-sent while it fires

Service-wide keys (not per team): the worker heartbeats (inference.worker), failed admin logins
per username (core.login_lockout), the archiver's last completed run (history.archiver),
whether one waits in the queue (history.beat) and the prediction runs' counters for /metrics
(inference.run_metrics).
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


def history_archived() -> str:
    """The archiver's last completed run (epoch s)."""
    return f"{installation()}:history:archived"


def history_archive_sent() -> str:
    """Set while an archiver run sent by celery beat waits in the queue (history.beat)."""
    return f"{installation()}:history:archive-sent"


def run_metrics() -> str:
    """hash: the prediction runs' counters and histogram buckets for /metrics (a fixed set of fields)."""
    return f"{installation()}:metrics:runs"


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
        self.run_stats = self.prefix + "run:stats"
        self.predictions = self.prefix + "predictions"
        self.alerts = self.prefix + "alerts"
        self.predictions_meta = self.prefix + "predictions:meta"
        self.history_stream = self.prefix + "history:stream"
        self.history_state = self.prefix + "history:state"
        self.history_forgotten = self.prefix + "history:forgotten"
        self.history_lock = self.prefix + "history:lock"
        self.alert_state = self.prefix + "alerts:state"
        self.accuracy_pending = self.prefix + "accuracy:pending"
        self.accuracy_sums = self.prefix + "accuracy:sums"
        self.fleet_view = self.prefix + "fleet-view"
        self.dashboard_servers = self.prefix + "dashboard:servers"
        self.model_fallback = self.prefix + "model:fallback"
        self.notify_outbox = self.prefix + "notify:outbox"
        self.notify_queued = self.prefix + "notify:queued"
        self.notify_lock = self.prefix + "notify:lock"
        self.notify_alertmanager = self.prefix + "notify:alertmanager"

    @property
    def pattern(self) -> str:
        """SCAN pattern matching every key of the team (the prefix has no glob characters:
        a team id is a number and the installation prefix is checked in settings)."""
        return self.prefix + "*"

    def shard_run(self, run_id: str) -> "ShardRunKeys":
        return ShardRunKeys(f"{self.prefix}run:{run_id}:")

    def window(self, server_name: str) -> str:
        return self.window_prefix + server_name

    def seasonal(self, server_name: str) -> str:
        return self.prefix + "seasonal:" + server_name

    def usage(self, key_prefix: str) -> str:
        return f"{self.prefix}usage:{key_prefix}"

    def explanation(self, server_name: str) -> str:
        return self.prefix + "explain:" + server_name

    def rate(self, scope: str, key_prefix: str) -> list:
        """[log, sequence] of one API key's rate limit in one scope."""
        base = f"{self.prefix}rate:{scope}:{key_prefix}"
        return [base, base + ":n"]

    @property
    def window_meta(self) -> list:
        """The three keys every window script takes first (core/lua/window_prune.lua)."""
        return [self.meta, self.seen, self.counts]


class ShardRunKeys:
    """The keys of one sharded run of a team (inference.sharding)."""

    def __init__(self, prefix: str):
        self.plan = prefix + "plan"
        self.claims = prefix + "claims"
        self.parts = prefix + "parts"
        self.done = prefix + "done"

    @property
    def all(self) -> list:
        return [self.plan, self.claims, self.parts, self.done]


def team(team_id) -> TeamKeys:
    return TeamKeys(team_id)
