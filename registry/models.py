from django.db import models
from django.db.models import Q

from feeds.models import Team


class ForecastModel(models.Model):
    """One forecasting model: its model directory packed as a blob (registry.blobs) with the
    manifest and checksum, so any worker on any machine loads it from the database. team is
    None for the global default (the model shipped with the project, registered at migrate
    time). A team uses its own active model, else the global active one."""

    TRAINING, CANDIDATE, ACTIVE, RETIRED, FAILED, CANCELLED = (
        "training", "candidate", "active", "retired", "failed", "cancelled")
    STATES = [(s, s) for s in (TRAINING, CANDIDATE, ACTIVE, RETIRED, FAILED, CANCELLED)]
    USABLE = (CANDIDATE, ACTIVE, RETIRED)  # states that hold a trained blob

    version = models.CharField(max_length=80, unique=True)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="forecast_models",
                             help_text="Empty for the global default that every team without its own model uses.")
    state = models.CharField(max_length=12, choices=STATES, default=TRAINING)
    blob = models.BinaryField(default=b"", editable=False, help_text="The model directory, as a gzipped tar.")
    sha256 = models.CharField(max_length=64, blank=True, help_text="Of the blob.")
    size_bytes = models.PositiveIntegerField(default=0)
    manifest = models.JSONField(default=dict, blank=True)
    description = models.JSONField(default=dict, blank=True, help_text="How it was trained.")
    figures = models.JSONField(default=dict, blank=True, help_text="Backtest on the team's held-out days.")
    reason = models.TextField(blank=True, help_text="Why it was (not) promoted, or why it failed.")
    created = models.DateTimeField(auto_now_add=True)
    activated = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created", "-id")
        constraints = [
            models.UniqueConstraint(fields=["team"], condition=Q(state="active"), name="registry_one_active_per_team"),
            # NULLs are distinct in a unique index: the global default needs a constraint of its own
            models.UniqueConstraint(fields=["state"], condition=Q(state="active", team__isnull=True),
                                    name="registry_one_active_global"),
        ]

    def __str__(self):
        return f"{self.version} ({self.state})"


class TrainingJob(models.Model):
    """A fine-tuning run for one team, done by the trainer process (queue `training`). At most
    one job per team is queued or running."""

    QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
    STATES = [(s, s) for s in (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED)]
    OPEN = (QUEUED, RUNNING)

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="training_jobs")
    state = models.CharField(max_length=10, choices=STATES, default=QUEUED)
    max_minutes = models.FloatField()
    days = models.PositiveSmallIntegerField()
    model = models.ForeignKey(ForecastModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              help_text="The model this job trains.")
    progress = models.JSONField(default=dict, blank=True)
    log = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    requested_by = models.CharField(max_length=150, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    heartbeat = models.DateTimeField(null=True, blank=True, help_text="Last sign of life of the trainer running it.")

    class Meta:
        ordering = ("-created", "-id")
        constraints = [models.UniqueConstraint(fields=["team"], condition=Q(state__in=["queued", "running"]),
                                               name="registry_one_open_job_per_team")]

    def __str__(self):
        return f"job {self.pk} of {self.team} ({self.state})"
