from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Service-wide code every app uses: Redis and its keys, auth, throttles, errors, /status."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "core"

    def ready(self):
        from . import openapi  # noqa: F401  registers the X-API-Key scheme with drf-spectacular
        from .metrics import QueueDepth, register_collector

        register_collector(QueueDepth())
