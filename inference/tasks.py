"""Celery tasks. One task, run_team: forecast and score one team's fleet with the team's active
model and cache the result."""
from celery import shared_task

from . import worker  # connects the per-process model loading to Celery's signals
from .dispatch import RUN_TASK, finish_run, keep_lease, start_run
from .runner import run_team_predictions


@shared_task(bind=True, name=RUN_TASK, max_retries=None)
def run_team(self, team_id):
    """Idempotent: it reads the team's current windows, so a redelivered or repeated run only
    writes the same (or a newer) document."""
    if not start_run(team_id, self.request.id):
        raise self.retry(countdown=1)  # another run of the team is in progress
    try:
        with keep_lease(team_id, self.request.id):
            models = worker.loaded_models()
            choice = models.for_team(team_id)  # the team's active model (model_source)
            summary = run_team_predictions(team_id, choice.forecaster)
            models.report(team_id, choice)
            return summary
    finally:
        finish_run(team_id, self.request.id)
