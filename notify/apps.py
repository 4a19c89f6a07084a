from django.apps import AppConfig


class NotifyConfig(AppConfig):
    """Alerts that reach people: the alert timeline's transitions pushed to Prometheus
    Alertmanager and to each team's signed webhooks, by the `notify` Celery queue, off the
    prediction run's path (the run only queues them in Redis)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "notify"

    def ready(self):
        from . import receivers  # noqa: F401  listens to timeline's alert_transitions
