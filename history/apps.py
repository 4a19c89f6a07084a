from django.apps import AppConfig


class HistoryConfig(AppConfig):
    """Every accepted point, kept ARGUS_HISTORY_DAYS in the database: the archiver that drains the
    teams' history streams (written by feeds' append script), retention, and the read views."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "history"

    def ready(self):
        from core import status

        from . import receivers  # noqa: F401  listens to feeds' signals
        from .status import PART

        status.register(PART)
