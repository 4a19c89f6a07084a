"""Alert events are kept ARGUS_HISTORY_DAYS (data time), like the point history."""
from datetime import datetime, timedelta, timezone

from django.conf import settings

from .models import AlertEvent

DELETE_CHUNK = 5000  # rows per DELETE statement: no single statement holds the table long


def delete_expired_events(now: datetime = None) -> int:
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=settings.ARGUS_HISTORY_DAYS)
    deleted = 0
    while ids := list(AlertEvent.objects.filter(at__lt=cutoff).values_list("id", flat=True)[:DELETE_CHUNK]):
        deleted += AlertEvent.objects.filter(id__in=ids).delete()[0]
    return deleted
