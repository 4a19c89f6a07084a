"""The WSGI application gunicorn serves (argus_project/gunicorn.conf.py)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "argus_project.settings")

from core.bodies import read_chunked_bodies  # noqa: E402  (needs the settings module set)

application = read_chunked_bodies(get_wsgi_application())
