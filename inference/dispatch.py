"""Coalesced dispatch: each accepted batch asks for a run of its team; at most one run per
team is queued and one running. This module owns the run's Redis state (core/keys.py):

  run:queued   set while a run is queued (a batch then needs no new task)
  run:lock     the running task's id, while it runs

A task clears `queued` when it starts, so a batch arriving during a run queues exactly one more
run after it, and the last batch is always covered. The lock keeps a second run of the team
from starting in parallel; a task that finds the lock taken marks itself as the queued run and
retries; a redelivered task (its worker died) has the same id and takes its lock back at once.

The lock is a lease of ARGUS_RUN_LEASE seconds that the running task renews every third of
that (keep_lease). A run cut off by a Redis outage, or a worker that froze, leaves a lock that
expires within one lease, not one that blocks the team's predictions for the whole time limit.
The task is sent by name, so this module and tasks.py do not import each other."""
import logging
import threading
from contextlib import contextmanager

import redis
from celery import current_app
from django.conf import settings

from core import keys
from core.redis import get_redis, lua, redis_unavailable, run_script

log = logging.getLogger(__name__)

RUN_TASK = "inference.tasks.run_team"
QUEUED_TTL = 600  # seconds; a queued flag whose task was lost (a purged queue) clears itself
START_RUN = lua("run_start")
FINISH_RUN = lua("run_finish")
RENEW_LEASE = lua("run_refresh")


def request_run(team_id, countdown=None) -> bool:
    """Queues a run for the team unless one is already queued. True if it queued one."""
    queued = keys.team(team_id).run_queued
    redis = get_redis()
    if not redis.set(queued, "1", nx=True, ex=QUEUED_TTL):
        return False
    try:
        current_app.send_task(RUN_TASK, args=[team_id], countdown=countdown)
    except Exception:
        redis.delete(queued)  # let the next batch try again
        raise
    return True


def start_run(team_id, task_id) -> bool:
    """Called by a task as it starts: True if it may run now (it then holds the team's lock);
    False if another run holds it (this task is then the queued run and should retry)."""
    team = keys.team(team_id)
    return bool(run_script(START_RUN, [team.run_queued, team.run_lock],
                           [task_id, settings.ARGUS_RUN_LEASE, QUEUED_TTL]))


def renew_lease(team_id, task_id) -> bool:
    """Extends the run's lock by a lease; False if this task no longer holds it."""
    return bool(run_script(RENEW_LEASE, [keys.team(team_id).run_lock], [task_id, settings.ARGUS_RUN_LEASE]))


@contextmanager
def keep_lease(team_id, task_id):
    """Renews the run's lease every third of ARGUS_RUN_LEASE while the block runs. A renewal
    that fails (Redis unreachable) is retried at the next beat; if the lease ran out meanwhile,
    another run may start, which is harmless: the cache keeps the newest tick."""
    with renewing(lambda: renew_lease(team_id, task_id), f"team {team_id}: run {task_id}"):
        yield


@contextmanager
def renewing(renew, what: str):
    """Calls renew() every third of ARGUS_RUN_LEASE while the block runs, in a thread; logs when
    it returns False (the lease was lost) or Redis cannot answer (retried at the next beat)."""
    done = threading.Event()

    def beat():
        while not done.wait(settings.ARGUS_RUN_LEASE / 3):
            try:
                if not renew():
                    log.warning("%s lost its lease", what)
            except redis.RedisError as exc:
                if not redis_unavailable(exc):
                    raise
                log.warning("%s could not renew its lease (Redis unavailable)", what)

    thread = threading.Thread(target=beat, name=f"argus-lease {what}"[:60], daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def finish_run(team_id, task_id):
    run_script(FINISH_RUN, [keys.team(team_id).run_lock], [task_id])
