"""Celery tasks. run_team: forecast and score one team's fleet with the team's active model and
cache the result, in this task, or for a team larger than ARGUS_SHARD_SERVERS as the coordinator
of a sharded run (inference.sharding) whose run_shard tasks any free worker takes."""
from dataclasses import replace

from celery import shared_task

from feeds.windows import list_servers

from . import worker  # connects the per-process model loading to Celery's signals
from .dispatch import RUN_TASK, finish_run, keep_lease, start_run
from .runner import run_team_predictions
from .sharding import SHARD_TASK, run_queued_shard, run_sharded, splits


@shared_task(bind=True, name=RUN_TASK, max_retries=None)
def run_team(self, team_id):
    """Idempotent: it reads the team's current windows, so a redelivered or repeated run only
    writes the same (or a newer) document. A redelivered coordinator resumes its sharded run."""
    if not start_run(team_id, self.request.id):
        raise self.retry(countdown=1)  # another run of the team is in progress
    try:
        with keep_lease(team_id, self.request.id):
            models = worker.loaded_models()
            choice = models.for_team(team_id)  # the team's active model (model_source)
            summary = run_whole_or_sharded(team_id, self.request.id, choice)
            used = [m for m in summary.get("models", []) if m != choice.forecaster.version]
            if used:  # a worker could not load the run's model for its shard and fell back
                choice = replace(choice, error=f"shards forecast with {', '.join(used)}: "
                                               f"{choice.forecaster.version} could not be loaded there")
            models.report(team_id, choice)
            return summary
    finally:
        finish_run(team_id, self.request.id)


def run_whole_or_sharded(team_id, run_id, choice) -> dict:
    servers = list_servers(team_id)
    if splits(len(servers.names)):
        return run_sharded(team_id, run_id, servers, choice, worker.worker_id())
    return run_team_predictions(team_id, choice.forecaster, servers=servers)


@shared_task(bind=True, name=SHARD_TASK, max_retries=None)
def run_shard(self, team_id, run_id, index):
    """One shard of a sharded run (inference.sharding). acks_late, as every task here: a shard
    whose worker dies is redelivered, with the same id, and takes its shard back."""
    return run_queued_shard(team_id, run_id, index, self.request.id, worker.loaded_models(), worker.worker_id())
