"""celery beat's scheduler for Argus: Celery's in-memory one (an interval needs no state across
restarts, so no schedule file), except that it sends the archiver only while none is waiting.
Without that, a stopped worker would find one message per ARGUS_HISTORY_ARCHIVE_SECONDS queued
when it comes back; with it, at most one (and one more per sending.SENT_TTL if one was lost)."""
import logging

import redis
from celery import beat

from core.redis import redis_unavailable

from .sending import ARCHIVE_TASK, claim_archive_send

log = logging.getLogger(__name__)


class Scheduler(beat.Scheduler):
    def apply_entry(self, entry, producer=None):
        if entry.task == ARCHIVE_TASK:
            try:
                if not claim_archive_send():
                    return
            except redis.RedisError as exc:
                if not redis_unavailable(exc):
                    raise
                log.warning("beat: Redis unavailable; the archiver is sent at the next interval")
                return
        super().apply_entry(entry, producer)
