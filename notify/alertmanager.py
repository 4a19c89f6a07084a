"""Prometheus Alertmanager's v2 API (POST <ARGUS_ALERTMANAGER_URL>/api/v2/alerts): a list of
alerts, each identified by its labels. Alertmanager resolves an alert by itself at its endsAt,
so a firing alert is re-sent every ARGUS_NOTIFY_SECONDS with an endsAt FIRING_FOR_INTERVALS
intervals ahead (as Prometheus does), and a resolved one is sent once with the time it ended."""
import json
from datetime import timedelta

from django.conf import settings

from .http import post

FIRING_FOR_INTERVALS = 4
POST_BATCH = 500  # alerts per request


def firing_for() -> timedelta:
    return timedelta(seconds=FIRING_FOR_INTERVALS * settings.ARGUS_NOTIFY_SECONDS)


class Alertmanager:
    """One notifier pass's view of Alertmanager: once a request fails, the rest of the pass
    skips it (an unreachable Alertmanager costs one timeout per pass, not one per team); what
    was not sent is sent at the next pass."""

    def __init__(self, url: str | None = None):
        self.url = (settings.ARGUS_ALERTMANAGER_URL if url is None else url).rstrip("/")
        self.failed = None  # the first error of this pass

    @property
    def configured(self) -> bool:
        return bool(self.url)

    def send(self, alerts: list) -> bool:
        """True if Alertmanager took every alert."""
        if self.failed is not None:
            return False
        for i in range(0, len(alerts), POST_BATCH):
            error = post(self.url + "/api/v2/alerts", json.dumps(alerts[i:i + POST_BATCH]).encode(),
                         {"Content-Type": "application/json", "User-Agent": f"Argus/{settings.VERSION}"})
            if error is not None:
                self.failed = error
                return False
        return True
