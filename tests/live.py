"""Argus served by real gunicorn processes, for tests and benchmarks that go over HTTP."""
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import requests

from core.local_redis import free_port, start_redis_server

ROOT = Path(__file__).resolve().parent.parent


class LiveStack:
    """Real gunicorn processes serving Argus over HTTP, with their own SQLite file and a team
    and key made by the management commands, as an operator would."""

    def __init__(self, tmp_path, redis_url):
        self.tmp_path = tmp_path
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "REDIS_URL": redis_url,
            "DJANGO_SETTINGS_MODULE": "argus_project.settings",
            "ARGUS_LOG_LEVEL": "WARNING",
        }
        self.processes = []
        self.manage("migrate", "-v0")

    def manage(self, *args):
        result = subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=self.env,
                                capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()

    def create_key(self, team_slug):
        self.manage("create_team", team_slug, "--exist-ok")
        return self.manage("create_api_key", team_slug)[-1]

    def start_web(self, workers=1, **settings):
        port = free_port()
        env = {**self.env, **{k: str(v) for k, v in settings.items()}}
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "argus_project" / "gunicorn.conf.py"),
             "argus_project.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers), "--log-level", "warning"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(self.tmp_path / f"web-{port}.log", "w"),
        )
        self.processes.append(process)
        url = f"http://127.0.0.1:{port}"
        wait_for_http(url + "/status", process)
        return url

    def start_worker(self, **settings):
        """bin/worker (a real Celery worker, one prefork process, restarted if it crashes);
        returns once a new pool process has loaded the model and announced itself."""
        import redis

        env = {**self.env, "PYTHON": sys.executable, **{k: str(v) for k, v in settings.items()}}
        client = redis.Redis.from_url(self.env["REDIS_URL"])
        before = set(client.zrange("argus:workers", 0, -1))  # ARGUS_REDIS_PREFIX's default
        log = open(self.tmp_path / f"worker-{len(self.processes)}.log", "w")
        process = subprocess.Popen([str(ROOT / "bin" / "worker"), "--hostname", f"w{len(self.processes)}@%h"],
                                   env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        deadline = time.monotonic() + 120
        while not set(client.zrange("argus:workers", 0, -1)) - before:
            assert process.poll() is None, f"worker exited with {process.returncode}"
            assert time.monotonic() < deadline, "worker did not load its model in 120 s"
            time.sleep(0.2)
        return process

    def start_trainer(self, **settings):
        """bin/worker on the training queue, as the Procfile's `trainer` runs it (it loads no
        serving model, so there is no heartbeat to wait for: jobs wait in the queue meanwhile)."""
        env = {**self.env, "PYTHON": sys.executable, "WORKER_QUEUES": "training",
               **{k: str(v) for k, v in settings.items()}}
        log = open(self.tmp_path / "trainer.log", "w")
        process = subprocess.Popen([str(ROOT / "bin" / "worker"), "--hostname", "trainer@%h"],
                                   env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def start_notifier(self, **settings):
        """The Procfile's `notifier`: bin/worker on the `notify` queue with a thread pool (no model);
        returns once Celery says it is ready."""
        env = {**self.env, "PYTHON": sys.executable, "WORKER_QUEUES": "notify", "WORKER_POOL": "threads",
               "WORKER_CONCURRENCY": "4", "ARGUS_LOG_LEVEL": "INFO", **{k: str(v) for k, v in settings.items()}}
        log_path = self.tmp_path / f"notifier-{len(self.processes)}.log"
        process = subprocess.Popen([str(ROOT / "bin" / "worker"), "--hostname", f"n{len(self.processes)}@%h"],
                                   env=env, cwd=ROOT, stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
        self.processes.append(process)
        deadline = time.monotonic() + 60
        while " ready." not in log_path.read_text():
            assert process.poll() is None, f"notifier exited with {process.returncode}: {log_path.read_text()[-2000:]}"
            assert time.monotonic() < deadline, "the notifier was not ready in 60 s"
            time.sleep(0.2)
        return process

    def start_beat(self, **settings):
        """celery beat, as the Procfile's `beat` runs it."""
        env = {**self.env, **{k: str(v) for k, v in settings.items()}}
        log = open(self.tmp_path / "beat.log", "w")
        process = subprocess.Popen([sys.executable, "-m", "celery", "-A", "argus_project", "beat", "--loglevel", "WARNING"],
                                   env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def stop(self):
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(15)


def wait_for_http(url, process, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"server exited with {process.returncode}"
        try:
            requests.get(url, timeout=5)
            return
        except (requests.ConnectionError, requests.Timeout):  # still importing
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer in {timeout}s")


@contextmanager
def private_stack():
    """A LiveStack on its own redis-server in a temporary directory (for benchmarks)."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        port = free_port()
        redis_process = start_redis_server(port, tmp / "redis")
        stack = LiveStack(tmp, f"redis://127.0.0.1:{port}/0")
        try:
            yield stack
        finally:
            stack.stop()
            redis_process.terminate()
            redis_process.wait(10)  # before its directory is removed
