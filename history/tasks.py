"""Celery tasks of history/: the archiver, sent by celery beat every ARGUS_HISTORY_ARCHIVE_SECONDS
(settings.CELERY_BEAT_SCHEDULE, history.beat) to the `history` queue."""
import logging

from celery import shared_task

from .archiver import archive_all
from .sending import ARCHIVE_TASK, archive_started

log = logging.getLogger(__name__)

# Seconds one run may spend storing before it leaves the rest to the next run: it shares the
# worker with prediction runs (bin/worker consumes both queues), which must not wait long.
RUN_BUDGET = 20


@shared_task(name=ARCHIVE_TASK, ignore_result=True)
def archive_history():
    """Idempotent and safe to overlap (each team is archived under a lease)."""
    archive_started()
    result = archive_all(time_budget=RUN_BUDGET)
    if result.points or result.expired_days:
        log.info("history: stored %d points of %d teams, deleted %d expired server-days",
                 result.points, result.teams, result.expired_days)
