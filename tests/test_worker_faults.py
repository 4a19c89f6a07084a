"""Worker faults: a run killed mid-way is redone; workers reconnect after a Redis restart."""
import os
import signal
import time

import pytest
import redis
import requests

from core import keys
from core.local_redis import free_port, start_redis_server
from inference.simulator import simulate_fleet
from tests.feeding import feed_frame, wait_for_predictions
from tests.live import LiveStack


@pytest.fixture(autouse=True)
def _use_private_redis():
    """These tests bring their own Redis (it gets restarted)."""


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory):
    port, workdir = free_port(), tmp_path_factory.mktemp("redis")
    server = {"process": start_redis_server(port, workdir)}

    def restart():
        server["process"].terminate()
        server["process"].wait(10)
        server["process"] = start_redis_server(port, workdir)

    yield f"redis://127.0.0.1:{port}/0", restart
    server["process"].terminate()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, own_redis):
    stack = LiveStack(tmp_path_factory.mktemp("stack"), own_redis[0])
    stack.url = stack.start_web(workers=1, ARGUS_RATE_FEED="100000/min", ARGUS_RATE_READ="100000/min")
    stack.worker = stack.start_worker()
    yield stack
    stack.stop()


def worker_pids(client):
    """Pool processes that have loaded the model (their heartbeat names end in the pid)."""
    return {int(w.rsplit(b":", 1)[1]) for w in client.zrange("argus:workers", 0, -1)}


def test_a_worker_process_killed_mid_run_has_its_run_redone(stack, own_redis):
    key = stack.create_key("killed")
    client = redis.Redis.from_url(own_redis[0])
    team_id = int(stack.manage("shell", "-c", "from feeds.models import Team; print(Team.objects.get(slug='killed').id)")[-1])
    records, _ = simulate_fleet(400, days=0.1, seed=4)
    [victim] = worker_pids(client)
    tick = feed_frame(stack.url, key, records, ticks_per_request=12)
    deadline = time.monotonic() + 60
    while not client.exists(keys.team(team_id).run_lock):  # the run has started
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.002)
    os.kill(victim, signal.SIGKILL)
    document = wait_for_predictions(stack.url, key, tick, timeout=180)
    assert document["summary"]["total_servers"] == 400
    assert worker_pids(client) - {victim}  # a new pool process loaded the model and did the run


def test_workers_reconnect_after_redis_restarts(stack, own_redis):
    restart = own_redis[1]
    restart()  # comes back empty: it keeps nothing on disk
    key = stack.create_key("after-restart")
    records, _ = simulate_fleet(10, days=0.2, seed=6)
    tick = None
    deadline = time.monotonic() + 30
    while tick is None:  # the web process reconnects on its own; a feeder retries 503s
        try:
            tick = feed_frame(stack.url, key, records)
        except AssertionError:
            assert time.monotonic() < deadline
            time.sleep(0.5)
    document = wait_for_predictions(stack.url, key, tick, timeout=120)
    assert document["summary"]["total_servers"] == 10
    status = requests.get(stack.url + "/status", headers={"X-API-Key": key}, timeout=30).json()
    assert status["last_prediction"] == document["timestamp"]
