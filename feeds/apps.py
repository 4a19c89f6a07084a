from django.apps import AppConfig


class FeedsConfig(AppConfig):
    """Tenants and their API keys, the feed contract, the rolling windows, the feed views."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "feeds"

    def ready(self):
        from core import status

        from .status import PART

        status.register(PART)
