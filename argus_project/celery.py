"""The Celery app, configured from Django settings (CELERY_* names) with tasks autodiscovered."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "argus_project.settings")

app = Celery("argus")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
