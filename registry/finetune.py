"""A fine-tuning job, on the trainer (queue `training`): the team's active model goes on training
on the team's own history (its newest `days` days but the held-out ones), within the job's time
budget; the result is registered as a candidate, backtested against the active model on the
held-out days, and promoted if it is better (registry.backtest). Progress (epoch, loss, time
left) lands in the job row every few seconds, and the same beat reads a cancel request."""
import json
import logging
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from feeds.schema import SLOTS_PER_DAY

from . import blobs, jobs
from .backtest import compare
from .models import ForecastModel, TrainingJob
from .promotion import activate, active_for, lock_team
from .retention import prune
from .team_history import team_series

log = logging.getLogger(__name__)


def run_job(job_id) -> str:
    """Runs a queued job to its end; returns its final state."""
    from inference.model.training import TrainingCancelled

    job = claim(job_id)
    if job is None:
        return "skipped"
    try:
        return train(job)
    except TrainingCancelled:
        jobs.finish(job, TrainingJob.CANCELLED, "cancelled while training; nothing was activated")
    except Exception as e:  # a failed job says why, in its log and in the model's reason
        log.exception("training job %s failed", job.pk)
        jobs.finish(job, TrainingJob.FAILED, f"failed: {type(e).__name__}: {e}")
    return job.state


def claim(job_id):
    """queued -> running, or None if the job is no longer queued (cancelled meanwhile)."""
    with transaction.atomic():
        job = TrainingJob.objects.select_for_update().select_related("team").filter(pk=job_id).first()
        if job is None or job.state != TrainingJob.QUEUED:
            return None
        job.state, job.started = TrainingJob.RUNNING, timezone.now()
        job.heartbeat = job.started
        base = active_for(job.team)
        stamp = job.started.strftime("%Y%m%d%H%M")
        job.model = ForecastModel.objects.create(
            version=f"{job.team.slug[:40]}-{stamp}-j{job.pk}", team=job.team, state=ForecastModel.TRAINING,
            description={"base": base.version if base else None, "days": job.days, "max_minutes": job.max_minutes})
        jobs.append_log(job, f"started: fine-tuning {base.version if base else '?'} on the last {job.days} days")
        job.save()
    return job


def still_running(job) -> bool:
    """Under the job row's lock: the job may still end well. A cancel asked for at the last moment
    raises TrainingCancelled; a job ended meanwhile (reaped as stale) keeps its end, and its model
    is marked failed."""
    from inference.model.training import TrainingCancelled

    current = TrainingJob.objects.select_for_update().get(pk=job.pk)
    if current.cancel_requested:
        raise TrainingCancelled()
    if current.state != TrainingJob.RUNNING:
        job.state = current.state
        ForecastModel.objects.filter(pk=job.model_id, state=ForecastModel.TRAINING).update(
            state=ForecastModel.FAILED, reason=f"the job was ended ({current.state}) while it ran")
        return False
    return True


class Beat:
    """The job's progress and heartbeat, written every few seconds, and its cancel flag."""

    def __init__(self, job, started: float):
        self.job, self.started = job, started

    def report(self, progress: dict, log_line: str = None):
        budget = self.job.max_minutes * 60
        elapsed = time.monotonic() - self.started
        self.job.progress = {**self.job.progress, **progress, "elapsed_seconds": round(elapsed),
                             "eta_seconds": max(0, round(budget - elapsed))}
        self.job.heartbeat = timezone.now()
        if log_line:
            jobs.append_log(self.job, log_line)
        self.job.save(update_fields=["progress", "heartbeat", "log"])

    def phase(self, name: str):
        self.report({"phase": name}, log_line=name)
        self.check()

    def cancelled(self) -> bool:
        return TrainingJob.objects.filter(pk=self.job.pk, cancel_requested=True).exists()

    def check(self):
        from inference.model.training import TrainingCancelled

        if self.cancelled():
            raise TrainingCancelled()


def train(job) -> str:
    from inference.model.storage import load_forecaster, load_network, save_forecaster
    from inference.model.training import Series, TrainConfig, train_forecaster, watcher

    beat = Beat(job, time.monotonic())
    beat.phase("reading history")
    held_out_days = settings.ARGUS_BACKTEST_DAYS
    series = team_series(job.team_id, job.days, settings.ARGUS_TRAIN_MAX_SERVERS)
    held_out = held_out_days * SLOTS_PER_DAY
    training_series = [Series.of({**s, "values": s["values"][:-held_out], "source": "team"})
                       for s in series if len(s["values"]) > held_out]
    base = active_for(job.team)
    with tempfile.TemporaryDirectory(prefix="argus-train-") as work:
        blobs.unpack(base.blob, f"{work}/base", base.sha256)
        network, manifest = load_network(f"{work}/base")
        base_config = (manifest.get("training") or {}).get("config", {})
        beat.phase(f"training on {len(training_series)} servers, {job.days - held_out_days} days each, "
                   f"{job.max_minutes:g} minutes at most")
        config = TrainConfig(
            epochs=1000, batches_per_epoch=settings.ARGUS_TRAIN_BATCHES_PER_EPOCH, batch_size=64,
            val_steps=SLOTS_PER_DAY, learning_rate=settings.ARGUS_TRAIN_LEARNING_RATE, patience=3,
            loss=base_config.get("loss", "mixed"), max_minutes=job.max_minutes, seed=job.pk,
            progress=False, threads=settings.ARGUS_TRAINER_THREADS)
        description = {"fine_tuned_from": base.version, "team": job.team.slug, "job": job.pk,
                       "days": job.days, "held_out_days": held_out_days}
        result = train_forecaster(training_series, config, description=description, fine_tune=network,
                                  callbacks=[watcher(beat.report, beat.cancelled)])
        candidate = result.forecaster
        candidate.version = job.model.version
        save_forecaster(candidate, f"{work}/candidate")
        blob = blobs.pack(f"{work}/candidate")
        candidate_manifest = json.loads(Path(work, "candidate", "manifest.json").read_text())
        active = load_forecaster(f"{work}/base", device="cpu")
        beat.phase(f"backtesting against {base.version} on the last {held_out_days} days")
        figures = compare(candidate, active, series, held_out_days)
    beat.check()
    with transaction.atomic():
        lock_team(job.team)  # no activation of the team's interleaves with this one
        if not still_running(job):
            return job.state
        model = ForecastModel.objects.select_for_update().get(pk=job.model_id)
        model.blob, model.sha256, model.size_bytes = blob, blobs.sha256(blob), len(blob)
        model.manifest = candidate_manifest
        model.description = {**model.description, **result.summary}
        current = active_for(job.team)
        if figures["promote"] and current.version != base.version:  # someone chose another model meanwhile
            figures["promote"] = False
            figures["reason"] = (f"the team's active model changed to {current.version} during training; "
                                 f"{figures['reason']} (against {base.version})")
        model.figures, model.reason, model.state = figures, figures["reason"], ForecastModel.CANDIDATE
        model.save()
        if figures["promote"]:
            activate(job.team, model)
        job.progress = {**job.progress, "phase": "done", "eta_seconds": 0}
        jobs.finish(job, TrainingJob.SUCCEEDED,
                    f"{model.version}: {'activated' if figures['promote'] else 'kept as a candidate'}, {figures['reason']}")
    prune(job.team)
    return job.state
