from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.local_redis import start_redis_server
from core.redis import redis_reachable


class Command(BaseCommand):
    help = ("Make sure Redis answers at REDIS_URL. If nothing does and the URL is on this machine, "
            "start a private redis-server there that outlives this command, with an append-only "
            "file in --dir (fsync every second), so a restart keeps the windows.")

    def add_arguments(self, parser):
        parser.add_argument("--dir", default=str(settings.BASE_DIR / "var" / "redis"),
                            help="working directory and log of a started server")

    def handle(self, dir, **options):
        if redis_reachable():
            self.stdout.write(f"Redis answers at {settings.REDIS_URL}")
            return
        url = urlparse(settings.REDIS_URL)
        if url.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise CommandError(f"Redis does not answer at {settings.REDIS_URL}; start it or fix REDIS_URL.")
        start_redis_server(url.port or 6379, Path(dir), daemonize=True, persistent=True)
        self.stdout.write(f"Started a private redis-server at {settings.REDIS_URL} (append-only file and log "
                          f"in {dir})")
