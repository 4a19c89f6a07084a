from django.apps import AppConfig


class TimelineConfig(AppConfig):
    """The alert timeline: each (server, problem metric)'s alert kept across prediction runs with
    hysteresis (state in Redis), its transitions stored as AlertEvent rows, GET /alerts/history.
    Inference calls it at the end of a run; it knows nothing of inference."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "timeline"

    def ready(self):
        from . import receivers  # noqa: F401  listens to feeds' signals
