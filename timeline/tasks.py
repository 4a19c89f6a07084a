"""Celery tasks of timeline/: retention of alert events, sent by celery beat every hour
(settings.CELERY_BEAT_SCHEDULE) to the `history` queue."""
import logging

from celery import shared_task

from .retention import delete_expired_events

log = logging.getLogger(__name__)

EXPIRE_TASK = "timeline.tasks.expire_alert_events"


@shared_task(name=EXPIRE_TASK, ignore_result=True)
def expire_alert_events():
    deleted = delete_expired_events()
    if deleted:
        log.info("timeline: deleted %d alert events older than ARGUS_HISTORY_DAYS", deleted)
