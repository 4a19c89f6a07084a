"""bin/start, the README's first command: Ctrl-C (SIGINT to its process group, as a terminal
sends it) stops everything it started."""
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from core.local_redis import free_port

ROOT = Path(__file__).resolve().parent.parent


def processes_in_session(session_id):
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # exited meanwhile
            continue
        if int(fields[3]) == session_id and fields[0] != "Z":  # fields[3]: session, [0]: state
            found.append(int(stat.parent.name))
    return found


@pytest.mark.slow
def test_ctrl_c_stops_everything_bin_start_started(tmp_path, redis_url, redis_client):
    port = free_port()
    env = {**os.environ, "PORT": str(port), "REDIS_URL": redis_url, "CELERY_BROKER_URL": redis_url,
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    log = open(tmp_path / "start.log", "w")
    start = subprocess.Popen([str(ROOT / "bin" / "start")], cwd=ROOT, env=env, stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True)
    try:
        for _ in range(1800):  # up to 3 minutes to install nothing, migrate and start
            if "Argus is running." in (tmp_path / "start.log").read_text():
                break
            assert start.poll() is None, (tmp_path / "start.log").read_text()
            time.sleep(0.1)
        else:
            raise AssertionError("bin/start did not come up")
        printed = (tmp_path / "start.log").read_text()
        assert f"http://127.0.0.1:{port}/dashboard/" in printed and "log in as demo / " in printed
        for _ in range(1200):  # the worker has loaded its model; the feeder is feeding
            if redis_client.zcard("argus:workers") and redis_client.keys("argus:*:meta"):
                break
            time.sleep(0.1)
        assert len(processes_in_session(start.pid)) >= 4  # bin/start, gunicorn, bin/worker, feeder...

        os.killpg(start.pid, signal.SIGINT)  # what a terminal's Ctrl-C sends
        start.wait(20)  # bin/start gives its processes 8 s, then kills them
        left = []
        for _ in range(50):  # reaped by their parents within a moment
            left = processes_in_session(start.pid)
            if not left:
                break
            time.sleep(0.1)
        assert left == [], [Path(f"/proc/{p}/cmdline").read_text() for p in left]
    finally:
        for pid in processes_in_session(start.pid):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_ctrl_c_stops_bin_start_even_if_celery_exits_with_an_error_on_sigint(tmp_path, redis_url):
    """Celery can exit with an error when SIGINT reaches it (e.g. while its pool starts); the
    worker wrapper must not take that for a crash and restart it. A stand-in that does exactly
    that replaces Celery here (bin/worker runs "$PYTHON -m celery ...")."""
    import sys

    standin = tmp_path / "python-standing-in-for-celery"
    standin.write_text(f"#!{sys.executable}\n"
                       "import os, signal, sys, time\n"
                       "signal.signal(signal.SIGINT, lambda *_: sys.exit(1))\n"
                       f"open({str(tmp_path / 'celery-started')!r}, 'a')"
                       ".write(os.environ.get('WORKER_QUEUES', 'worker') + '\\n')\n"
                       "while True: time.sleep(1)\n")
    standin.chmod(0o755)
    port = free_port()
    env = {**os.environ, "PORT": str(port), "REDIS_URL": redis_url, "PYTHON": str(standin),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    log = open(tmp_path / "start.log", "w")
    start = subprocess.Popen([str(ROOT / "bin" / "start")], cwd=ROOT, env=env, stdout=log,
                             stderr=subprocess.STDOUT, start_new_session=True)
    try:
        for _ in range(1800):
            started = tmp_path / "celery-started"
            # bin/worker three times: the worker, the trainer and the notifier
            if "Argus is running." in (tmp_path / "start.log").read_text() and started.exists() \
                    and len(started.read_text().split()) == 3:
                break
            assert start.poll() is None, (tmp_path / "start.log").read_text()
            time.sleep(0.1)
        os.killpg(start.pid, signal.SIGINT)
        try:
            start.wait(20)
        except subprocess.TimeoutExpired:
            raise AssertionError("bin/start still running 20 s after Ctrl-C") from None
        for _ in range(50):
            if not processes_in_session(start.pid):
                break
            time.sleep(0.1)
        assert processes_in_session(start.pid) == []
        # each started once (the worker, the trainer and the notifier), never restarted
        assert sorted((tmp_path / "celery-started").read_text().split()) == ["notify", "training", "worker"]
    finally:
        for pid in processes_in_session(start.pid):
            os.kill(pid, signal.SIGKILL)
