from django.db import models

from feeds.models import Team

LEVELS = ("healthy", "degraded", "warning", "critical")  # in rising order
EVENTS = ("opened", "escalated", "de-escalated", "resolved")


class AlertEvent(models.Model):
    """One transition of one server's alert on one problem metric, at the data time of the run that
    made it. Deleted with its team (CASCADE), by DELETE /feed/servers/<name> (with the rest of the
    server's history), and once older than ARGUS_HISTORY_DAYS."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", db_index=False)
    server_name = models.CharField(max_length=128)
    metric = models.CharField(max_length=32)
    event = models.CharField(max_length=16, choices=[(e, e) for e in EVENTS])
    level = models.CharField(max_length=16, choices=[(level, level) for level in LEVELS])
    previous_level = models.CharField(max_length=16, choices=[(level, level) for level in LEVELS], null=True)
    risk_score = models.PositiveSmallIntegerField()
    message = models.CharField(max_length=200)
    at = models.DateTimeField(help_text="Data time of the run that made the transition.")

    class Meta:
        indexes = [
            models.Index(fields=["team", "at"], name="timeline_team_at"),  # the history reads
            models.Index(fields=["team", "server_name", "at"], name="timeline_team_server_at"),
            models.Index(fields=["at"], name="timeline_at"),  # retention deletes by time
        ]

    def __str__(self):
        return f"{self.server_name} {self.metric} {self.event} {self.level} at {self.at}"
