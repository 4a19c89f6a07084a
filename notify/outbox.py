"""The team's outbox in Redis (core/keys.py `notify:outbox`): the run's only part in
notifications. A run with transitions appends them in one MULTI round trip (bounded by
ARGUS_NOTIFY_OUTBOX_MAX, oldest dropped first) and, unless a notifier task for the team already
waits, sends one to the `notify` queue. Everything that talks to the network happens there."""
import json
import logging

from celery import current_app
from django.conf import settings

from core import keys
from core.redis import get_redis, lua, run_script

log = logging.getLogger(__name__)

NOTIFY_TASK = "notify.tasks.notify_team"
NOTIFY_QUEUE = "notify"
QUEUED_TTL = 600  # seconds; a queued flag whose task was lost clears itself (beat drains meanwhile)
REMOVE = lua("outbox_remove")


def enqueue(team_id, transitions: list):
    team = keys.team(team_id)
    limit = settings.ARGUS_NOTIFY_OUTBOX_MAX
    with get_redis().pipeline(transaction=True) as pipe:
        pipe.rpush(team.notify_outbox, *[json.dumps(t, separators=(",", ":")) for t in transitions])
        pipe.ltrim(team.notify_outbox, -limit, -1)
        pipe.set(team.notify_queued, "1", nx=True, ex=QUEUED_TTL)
        length, _, newly_queued = pipe.execute()
    if length > limit:
        log.warning("team %s: notification outbox full (ARGUS_NOTIFY_OUTBOX_MAX=%d): %d oldest "
                    "transitions dropped", team_id, limit, length - limit)
    if newly_queued:
        try:
            current_app.send_task(NOTIFY_TASK, args=[team_id], queue=NOTIFY_QUEUE)
        except Exception:
            get_redis().delete(team.notify_queued)  # the next run tries again; beat drains meanwhile
            raise


def task_started(team_id):
    """The team's notifier task holds the team: a run from now on sends a new one."""
    get_redis().delete(keys.team(team_id).notify_queued)


def peek(team_id, count: int) -> list:
    """The oldest `count` entries (raw), left in place until remove() (a notifier killed midway
    leaves them for the next one)."""
    return get_redis().lrange(keys.team(team_id).notify_outbox, 0, count - 1)


def decode(raws: list) -> list:
    return [json.loads(raw) for raw in raws]


def remove(team_id, raws: list) -> int:
    """Removes the entries peek() gave, those still at the head: never a newer one that a run's
    trim (an overflowing outbox) moved there meanwhile."""
    return run_script(REMOVE, [keys.team(team_id).notify_outbox], raws)


def pending_teams(team_ids: list) -> list:
    """The teams among `team_ids` with transitions waiting or alerts Alertmanager must be told
    about again (one pipelined round trip per call)."""
    with get_redis().pipeline(transaction=False) as pipe:
        for team_id in team_ids:
            team = keys.team(team_id)
            pipe.exists(team.notify_outbox, team.notify_alertmanager)
        return [team_id for team_id, found in zip(team_ids, pipe.execute()) if found]
