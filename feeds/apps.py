from django.apps import AppConfig


class FeedsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "feeds"

    def ready(self):
        from . import openapi  # noqa: F401  registers the X-API-Key scheme with drf-spectacular
