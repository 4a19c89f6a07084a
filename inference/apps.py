from django.apps import AppConfig


class InferenceConfig(AppConfig):
    """Prediction runs on Celery workers, risk scoring, the prediction cache and its read views;
    the model itself is the package inference.model."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "inference"

    def ready(self):
        from core import status
        from core.metrics import register_collector

        from . import receivers  # noqa: F401  listens to feeds' signals
        from .run_metrics import RunCollector  # also counts runs, from Celery's task signals
        from .status import PART

        status.register(PART)
        register_collector(RunCollector())
