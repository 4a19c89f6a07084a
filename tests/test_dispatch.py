"""Coalesced dispatch against a real Redis broker (no worker: the queue is inspected)."""
import json
import time

import pytest

from core import keys
from inference.dispatch import finish_run, keep_lease, renew_lease, request_run, start_run
from tests.factories import make_batch


def queued_tasks(redis_client):
    # the queue key carries the installation prefix (settings.CELERY_BROKER_TRANSPORT_OPTIONS)
    return [json.loads(m)["headers"]["argsrepr"] for m in redis_client.lrange("argus:celery:inference", 0, -1)]


def test_at_most_one_run_per_team_is_queued(redis_client):
    assert request_run(7) is True
    assert request_run(7) is False
    assert request_run(8) is True
    assert sorted(queued_tasks(redis_client)) == ["[7]", "[8]"]


def test_a_batch_during_a_run_queues_exactly_one_more(redis_client):
    request_run(7)
    assert start_run(7, "task-1") is True  # the run begins: its queued flag is cleared
    assert request_run(7) is True
    assert request_run(7) is False
    assert queued_tasks(redis_client) == ["[7]", "[7]"]


def test_only_one_run_per_team_at_a_time_but_a_redelivered_task_takes_its_lock_back(redis_client):
    assert start_run(7, "task-1") is True
    assert start_run(7, "task-2") is False
    assert start_run(7, "task-1") is True  # the same task redelivered after its worker died
    assert start_run(8, "task-3") is True  # other teams are not held up
    finish_run(7, "task-2")  # not the holder: no effect
    assert redis_client.get(keys.team(7).run_lock) == b"task-1"
    finish_run(7, "task-1")
    assert start_run(7, "task-2") is True


@pytest.mark.parametrize("points, runs", [(45, 0), (100, 1)])
def test_accepted_batches_ask_for_a_run_once_warm(client, team_a, redis_client, points, runs):
    client.post("/feed/data", {"records": make_batch(points)}, format="json", **team_a.headers)
    assert queued_tasks(redis_client) == [f"[{team_a.team.id}]"] * runs


def test_twenty_rapid_batches_queue_one_run(client, team_a, redis_client):
    for minute in range(20):
        batch = make_batch(100, f"2025-01-15T{10 + minute // 12:02d}:{minute % 12 * 5:02d}:00")
        assert client.post("/feed/data", {"records": batch}, format="json", **team_a.headers).status_code == 200
    assert len(queued_tasks(redis_client)) == 1


def test_a_batch_is_still_accepted_when_the_broker_is_unreachable(live_stack, redis_client):
    import requests

    from core.local_redis import free_port

    key = live_stack.create_key("brokerless")
    base = live_stack.start_web(CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0")
    response = requests.post(base + "/feed/data", json={"records": make_batch(100)},
                             headers={"X-API-Key": key}, timeout=60)
    assert response.status_code == 200
    assert response.json()["rolling_window_size"] == 100
    assert queued_tasks(redis_client) == []
    assert redis_client.keys("argus:{*}:run:queued") == []  # so the next batch asks again


def test_a_run_lock_is_a_short_lease_not_the_whole_time_limit(redis_client, settings):
    assert settings.ARGUS_RUN_LEASE < settings.ARGUS_RUN_TIME_LIMIT
    assert start_run(7, "task-1") is True
    assert 0 < redis_client.ttl(keys.team(7).run_lock) <= settings.ARGUS_RUN_LEASE


def test_only_the_holder_renews_the_lease(redis_client, settings):
    lock = keys.team(7).run_lock
    start_run(7, "task-1")
    redis_client.expire(lock, 1)
    assert renew_lease(7, "task-2") is False
    assert redis_client.ttl(lock) == 1
    assert renew_lease(7, "task-1") is True
    assert redis_client.ttl(lock) == settings.ARGUS_RUN_LEASE


def test_a_running_task_keeps_renewing_its_lease(redis_client, settings):
    settings.ARGUS_RUN_LEASE = 1  # renewed every third of a second
    lock = keys.team(7).run_lock
    start_run(7, "task-1")
    with keep_lease(7, "task-1"):
        redis_client.expire(lock, 1000)
        for _ in range(100):  # up to 10 s for the next renewal
            if redis_client.ttl(lock) <= 1:
                break
            time.sleep(0.1)
        assert redis_client.ttl(lock) <= 1, "the lease was not renewed"
    finish_run(7, "task-1")
    assert redis_client.get(lock) is None


def test_a_lock_left_by_a_run_cut_off_mid_way_expires_and_the_next_run_starts(redis_client):
    assert start_run(7, "task-1") is True  # its worker then lost Redis and never finished
    assert start_run(7, "task-2") is False
    redis_client.pexpire(keys.team(7).run_lock, 1)  # one lease later (not waited for here)
    time.sleep(0.01)
    assert start_run(7, "task-2") is True
