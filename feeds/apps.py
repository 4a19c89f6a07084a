from django.apps import AppConfig


class FeedsConfig(AppConfig):
    """Tenants and their API keys, the feed contract, the rolling windows, the feed views."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "feeds"

    def ready(self):
        from django.db.models.signals import post_delete

        from core import status

        from .actions import forget_deleted_key_usage, purge_deleted_team
        from .status import PART

        status.register(PART)
        post_delete.connect(purge_deleted_team, sender="feeds.Team", dispatch_uid="feeds.purge_deleted_team")
        post_delete.connect(forget_deleted_key_usage, sender="feeds.TeamAPIKey",
                            dispatch_uid="feeds.forget_deleted_key_usage")
