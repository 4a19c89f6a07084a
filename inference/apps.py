from django.apps import AppConfig


class InferenceConfig(AppConfig):
    """Prediction runs on Celery workers, risk scoring, the prediction cache and its read views;
    the model itself is the package inference.model."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "inference"

    def ready(self):
        from core import status

        from . import receivers  # noqa: F401  listens to feeds' signals
        from .status import PART

        status.register(PART)
