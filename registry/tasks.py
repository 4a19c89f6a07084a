"""Celery tasks of registry/: fine-tuning jobs, on the `training` queue that only the trainer
process serves (Procfile `trainer`), never the inference workers."""
from celery import shared_task

from .finetune import run_job
from .jobs import TRAIN_TASK


@shared_task(name=TRAIN_TASK, ignore_result=True, acks_late=False)
def train_team_model(job_id):
    """Acknowledged on receipt, never redelivered (a job outlives the broker's visibility
    timeout, which would hand it to a second trainer while it runs): a job whose trainer died
    is failed by jobs.reap_stale_jobs, and a new one is the user's call."""
    return run_job(job_id)
