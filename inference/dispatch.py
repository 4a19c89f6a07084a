"""Coalesced dispatch: each accepted batch asks for a run of its team; at most one run per
team is queued and one running.

  argus:{<team>}:run:queued   set while a run is queued (a batch then needs no new task)
  argus:{<team>}:run:lock     the running task's id, while it runs

A task clears `queued` when it starts, so a batch arriving during a run queues exactly one more
run after it, and the last batch is always covered. The lock (expiring with the task's hard
time limit) keeps a second run of the team from starting in parallel; a redelivered task (its
worker died) has the same id and takes its lock back at once."""
from django.conf import settings

from feeds.redis_client import get_redis, run_script
from feeds.windows import team_prefix

QUEUED_TTL = 600  # seconds; a queued flag whose task was lost (a purged queue) clears itself

TAKE_LOCK = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""
RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def queued_key(team_id):
    return team_prefix(team_id) + "run:queued"


def lock_key(team_id):
    return team_prefix(team_id) + "run:lock"


def request_run(team_id, countdown=None) -> bool:
    """Queues a run for the team unless one is already queued. True if it queued one."""
    from .tasks import run_team  # the task module imports this one

    redis = get_redis()
    if not redis.set(queued_key(team_id), "1", nx=True, ex=QUEUED_TTL):
        return False
    try:
        run_team.apply_async(args=[team_id], countdown=countdown)
    except Exception:
        redis.delete(queued_key(team_id))  # let the next batch try again
        raise
    return True


def start_run(team_id, task_id) -> bool:
    """Called by a task as it starts: True if it may run now."""
    get_redis().delete(queued_key(team_id))
    return bool(run_script(TAKE_LOCK, [lock_key(team_id)], [task_id, settings.ARGUS_RUN_TIME_LIMIT + 5]))


def finish_run(team_id, task_id):
    run_script(RELEASE_LOCK, [lock_key(team_id)], [task_id])
