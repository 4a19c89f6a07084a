"""Loaded by pytest before Django's settings (pytest.ini: `-p tests.environment`).

Settings refuse the development SECRET_KEY with debug off, so the tests bring their own; the
gunicorn, Celery and manage.py processes they start inherit it."""
import os
import secrets

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-" + secrets.token_urlsafe(40))
