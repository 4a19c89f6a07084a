from django.db import models

from feeds.models import Team


class ServerDay(models.Model):
    """One server's points of one UTC day: a packed blob of its 288 five-minute slots
    (history.packing), not a row per point. Deleted with its team (CASCADE), by
    DELETE /feed/servers/<name>, and once older than ARGUS_HISTORY_DAYS."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+", db_index=False)
    server_name = models.CharField(max_length=128)
    day = models.DateField()
    points = models.PositiveSmallIntegerField(help_text="Slots of the day that hold a point (at most 288).")
    data = models.BinaryField(help_text="history.packing's encoding of the day's points.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "server_name", "day"], name="history_one_row_per_server_day")]
        indexes = [models.Index(fields=["day"], name="history_day")]  # retention deletes by day

    def __str__(self):
        return f"{self.server_name} {self.day} ({self.points} points)"
