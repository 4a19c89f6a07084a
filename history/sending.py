"""At most one archiver run waits in the `history` queue: celery beat claims the send
(history.beat), the task releases it when it starts (history.tasks)."""
from core import keys
from core.redis import get_redis

ARCHIVE_TASK = "history.tasks.archive_history"
SENT_TTL = 3600  # seconds; a sent archiver that never ran (a purged queue) is sent again after this


def claim_archive_send() -> bool:
    """True if no archiver is waiting in the queue (and marks one as sent)."""
    return bool(get_redis().set(keys.history_archive_sent(), "1", nx=True, ex=SENT_TTL))


def archive_started():
    """The archiver task took its message: beat may send the next one."""
    get_redis().delete(keys.history_archive_sent())
