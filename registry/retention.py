"""Bounds on what a team's fine-tunes leave behind: the blobs of its newest ARGUS_KEEP_MODELS
models that are not active are kept (to roll back to); older ones lose their blob but keep their
row, figures and reason (the record of what was tried). Finished jobs beyond the newest
KEEP_JOBS per team are deleted. Run after every job."""
from django.conf import settings

from .models import ForecastModel, TrainingJob

KEEP_JOBS = 50


def prune(team) -> tuple:
    """(blobs dropped, jobs deleted) for the team."""
    kept = settings.ARGUS_KEEP_MODELS
    with_blobs = (ForecastModel.objects.filter(team=team, state__in=(ForecastModel.CANDIDATE, ForecastModel.RETIRED))
                  .exclude(size_bytes=0).order_by("-created", "-id").values_list("pk", flat=True))
    old = list(with_blobs[kept:])
    dropped = ForecastModel.objects.filter(pk__in=old).update(blob=b"", size_bytes=0, sha256="") if old else 0
    finished = (TrainingJob.objects.filter(team=team).exclude(state__in=TrainingJob.OPEN)
                .order_by("-created", "-id").values_list("pk", flat=True))
    stale = list(finished[KEEP_JOBS:])
    deleted = TrainingJob.objects.filter(pk__in=stale).delete()[0] if stale else 0
    return dropped, deleted
