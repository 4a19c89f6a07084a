"""Celery tasks. One task, run_team: forecast and score one team's fleet and cache the result."""
import logging

from celery import shared_task

from feeds.redis_client import get_redis

from . import worker  # noqa: F401  connects the per-process model loading to Celery's signals
from .dispatch import QUEUED_TTL, finish_run, queued_key, start_run
from .runner import run_team_predictions

log = logging.getLogger(__name__)


@shared_task(bind=True, name="inference.tasks.run_team", max_retries=None)
def run_team(self, team_id):
    """Idempotent: it reads the team's current windows, so a redelivered or repeated run only
    writes the same (or a newer) document."""
    if not start_run(team_id, self.request.id):
        # another run of this team is in progress: mark this one as the queued run and retry
        get_redis().set(queued_key(team_id), "1", ex=QUEUED_TTL)
        raise self.retry(countdown=1)
    try:
        return run_team_predictions(team_id, worker.get_forecaster())
    finally:
        finish_run(team_id, self.request.id)
