"""The /models endpoints' bodies (documentation only; the views build plain dicts)."""
from rest_framework import serializers


class TrainingRequest(serializers.Serializer):
    max_minutes = serializers.FloatField(required=False, help_text="Training time budget (default 10, at most ARGUS_TRAIN_MAX_MINUTES).")
    days = serializers.IntegerField(required=False, help_text="Newest days of the team's history to use (default 14, at most ARGUS_HISTORY_DAYS); the last ARGUS_BACKTEST_DAYS are held out.")


class TrainingJobStarted(serializers.Serializer):
    job = serializers.IntegerField()


class TrainingJobConflict(serializers.Serializer):
    detail = serializers.CharField()
    job = serializers.IntegerField(allow_null=True, help_text="The team's open job (null: one was started at the same moment).")


class TrainingJobDocument(serializers.Serializer):
    job = serializers.IntegerField()
    state = serializers.ChoiceField(choices=["queued", "running", "succeeded", "failed", "cancelled"])
    progress = serializers.DictField(help_text="phase, epoch, batch, train_loss, val_loss, elapsed_seconds, eta_seconds (the budget left).")
    log = serializers.CharField()
    model = serializers.CharField(allow_null=True, help_text="The version this job trains.")
    max_minutes = serializers.FloatField()
    days = serializers.IntegerField()
    created = serializers.DateTimeField()
    started = serializers.DateTimeField(allow_null=True)
    finished = serializers.DateTimeField(allow_null=True)


class ForecastModelEntry(serializers.Serializer):
    version = serializers.CharField()
    team = serializers.CharField(allow_null=True, help_text="null for the global default.")
    state = serializers.ChoiceField(choices=["training", "candidate", "active", "retired", "failed", "cancelled"])
    created = serializers.DateTimeField()
    activated = serializers.DateTimeField(allow_null=True)
    figures = serializers.DictField(help_text="Backtest on the team's held-out days: candidate and active model "
                                    "figures (relative_mase: MAE / seasonal naive's, geometric mean), the margin and the verdict.")
    reason = serializers.CharField(help_text="Why it was (not) activated, or why it failed.")
    description = serializers.DictField(help_text="How it was trained.")
    size_bytes = serializers.IntegerField()


class ModelsDocument(serializers.Serializer):
    active = serializers.CharField(allow_null=True, help_text="The version the team's runs use.")
    models = ForecastModelEntry(many=True)


class ModelActivated(serializers.Serializer):
    active = serializers.CharField()
