"""Fine-tuning jobs as the API and admin see them: start one (at most one open per team, enough
history), read it, cancel it. The work itself is registry.finetune, on the trainer."""
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import ForecastModel, TrainingJob
from .team_history import days_held

TRAIN_TASK = "registry.tasks.train_team_model"
LOG_LINES = 200  # a job keeps its newest log lines only
STALE_SECONDS = 300  # a running job without a heartbeat this long lost its trainer


class JobConflict(Exception):
    def __init__(self, job):
        super().__init__(f"job {job.pk} is {job.state} for this team; wait for it or cancel it" if job else
                         "another job was started for this team at the same moment")
        self.job = job


class BrokerUnavailable(Exception):
    pass


class NotEnoughHistory(Exception):
    pass


def min_history_days() -> int:
    """The held-out days, plus three to train on: the first day only feeds the model's view of
    "yesterday" and the last is the training's own validation."""
    return settings.ARGUS_BACKTEST_DAYS + 3


def start_job(team, max_minutes: float, days: int, requested_by: str = "") -> TrainingJob:
    """A new job, queued for the trainer."""
    job = create_job(team, max_minutes, days, requested_by)
    # the budget bounds training; reading history and the two backtests get as long again, at least 10 minutes
    limit = int(max_minutes * 60 * 2 + 600)
    try:
        current_app.send_task(TRAIN_TASK, args=[job.pk], queue="training", time_limit=limit,
                              soft_time_limit=limit - 30)
    except Exception as e:  # the broker (Redis) is unreachable: no job waits for a task that never comes
        finish(job, TrainingJob.FAILED, "could not be queued: the broker is unreachable")
        raise BrokerUnavailable(str(e)) from e
    return job


def create_job(team, max_minutes: float, days: int, requested_by: str = "") -> TrainingJob:
    """A new queued job row (registry.finetune.run_job runs it), if the team has none open and
    enough history."""
    reap_stale_jobs(team)
    held = days_held(team.id, days)
    if held < min_history_days():
        raise NotEnoughHistory(
            f"the team has {held} day(s) of history in the last {days} days; fine-tuning needs at "
            f"least {min_history_days()} ({settings.ARGUS_BACKTEST_DAYS} held out for the backtest, "
            f"3 to train on)")
    try:
        with transaction.atomic():
            job = TrainingJob.objects.create(team=team, max_minutes=max_minutes, days=days,
                                             requested_by=requested_by[:150])
    except IntegrityError:  # the one-open-job-per-team constraint: another request won the race
        raise JobConflict(open_job(team))
    return job


def open_job(team):
    return TrainingJob.objects.filter(team=team, state__in=TrainingJob.OPEN).first()


def cancel_job(job: TrainingJob) -> TrainingJob:
    """A queued job is cancelled at once; a running one at the trainer's next check (seconds)."""
    with transaction.atomic():
        job = TrainingJob.objects.select_for_update().get(pk=job.pk)
        if job.state == TrainingJob.QUEUED:
            finish(job, TrainingJob.CANCELLED, "cancelled before it started")
        elif job.state == TrainingJob.RUNNING:
            job.cancel_requested = True
            job.save(update_fields=["cancel_requested"])
    return job


def reap_stale_jobs(team=None) -> int:
    """Running jobs whose trainer stopped sending heartbeats (killed, machine lost) fail, so
    they no longer block the team."""
    stale = TrainingJob.objects.filter(state=TrainingJob.RUNNING,
                                       heartbeat__lt=timezone.now() - timedelta(seconds=STALE_SECONDS))
    if team is not None:
        stale = stale.filter(team=team)
    reaped = 0
    for job in stale:
        finish(job, TrainingJob.FAILED, "the trainer stopped answering (killed or restarted)")
        reaped += 1
    return reaped


def finish(job: TrainingJob, state: str, message: str) -> bool:
    """Ends the job (and a model it was training) in `state`, with the message logged, unless it
    has ended already (reaped, or cancelled while queued): False then, and nothing changes."""
    append_log(job, message)
    ended = TrainingJob.objects.filter(pk=job.pk, state__in=TrainingJob.OPEN).update(
        state=state, finished=timezone.now(), log=job.log, progress=job.progress)
    job.refresh_from_db(fields=["state", "finished", "log", "progress"])
    if ended and job.model_id and state in (TrainingJob.FAILED, TrainingJob.CANCELLED):
        ForecastModel.objects.filter(pk=job.model_id, state=ForecastModel.TRAINING).update(
            state=state, reason=message)
    return bool(ended)


def append_log(job: TrainingJob, line: str):
    stamp = timezone.now().strftime("%H:%M:%S")
    lines = (job.log.splitlines() + [f"{stamp} {line}"])[-LOG_LINES:]
    job.log = "\n".join(lines)


def job_document(job: TrainingJob) -> dict:
    return {"job": job.pk, "state": job.state, "progress": job.progress, "log": job.log,
            "model": job.model.version if job.model_id else None,
            "max_minutes": job.max_minutes, "days": job.days,
            "created": job.created, "started": job.started, "finished": job.finished}
