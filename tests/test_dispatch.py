"""Coalesced dispatch against a real Redis broker (no worker: the queue is inspected)."""
import json

import pytest

from core import keys
from inference.dispatch import finish_run, request_run, start_run
from tests.factories import make_batch


def queued_tasks(redis_client):
    return [json.loads(m)["headers"]["argsrepr"] for m in redis_client.lrange("inference", 0, -1)]


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
