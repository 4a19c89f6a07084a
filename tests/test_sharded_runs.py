"""Sharded runs end to end: real gunicorn, two real Celery workers (one pool process each) and a
1,000-server team whose runs are split into shards of 100 (ARGUS_SHARD_SERVERS)."""
import json
import os
import signal
import time

import numpy as np
import pytest
import requests

from core import keys
from inference.simulator import simulate_fleet
from tests.feeding import feed_frame, to_records
from tests.live import LiveStack

pytestmark = pytest.mark.slow

SERVERS, SHARD = 1000, 100
VOLATILE = ("age_seconds", "timestamp", "generated_at", "compute_seconds")


@pytest.fixture(autouse=True)
def _use_private_redis(redis_url, settings):
    """The module's workers run across tests: keep their heartbeats and queue (no flush)."""
    settings.REDIS_URL = redis_url


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_url):
    stack = LiveStack(tmp_path_factory.mktemp("stack"), redis_url)
    stack.url = stack.start_web(workers=1, ARGUS_RATE_FEED="100000/min", ARGUS_RATE_READ="100000/min")
    # a short lease, so that a shard whose worker is gone for good is taken over within seconds
    shards = {"ARGUS_SHARD_SERVERS": SHARD, "ARGUS_RUN_LEASE": 6, "ARGUS_LOG_LEVEL": "INFO"}
    stack.workers = [stack.start_worker(**shards), stack.start_worker(**shards)]
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def fleet(stack):
    """1,000 servers with two and a half hours of history (the model needs one), fed over HTTP;
    the last two ticks are kept back for the tests."""
    key = stack.create_key("big")
    team_id = int(stack.manage("shell", "-c", "from feeds.models import Team; print(Team.objects.get(slug='big').id)")[-1])
    records, _ = simulate_fleet(SERVERS, days=0.11, seed=19)
    times = sorted(records["timestamp"].unique())
    tick = feed_frame(stack.url, key, records[records["timestamp"] < times[-2]], ticks_per_request=9)
    wait_for_tick(stack, key, tick, timeout=300)
    return key, team_id, records, times


def wait_for_tick(stack, key, tick, timeout):
    """Waits for predictions covering `tick` by /status (a 1,000-server document is ~20 MB: it
    is read once, not polled)."""
    deadline = time.monotonic() + timeout
    while (requests.get(stack.url + "/status", headers={"X-API-Key": key}, timeout=30).json()["predicted_tick"] or 0) < tick:
        assert time.monotonic() < deadline, f"no predictions for tick {tick} within {timeout}s"
        time.sleep(0.2)
    return requests.get(stack.url + "/predictions/current", headers={"X-API-Key": key}, timeout=60).json()


def idle(client, team_id, timeout=120):
    """Waits until the team has no run queued or running."""
    team = keys.team(team_id)
    deadline = time.monotonic() + timeout
    while client.exists(team.run_queued, team.run_lock):
        assert time.monotonic() < deadline, "the team's runs did not settle"
        time.sleep(0.1)


def post_tick(stack, key, records, at):
    response = requests.post(stack.url + "/feed/data", json={"records": to_records(records[records["timestamp"] == at])},
                             headers={"X-API-Key": key}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()["tick"]


def without_volatile(document):
    document = {k: v for k, v in document.items() if k not in VOLATILE}
    for entry in document["predictions"].values():
        entry.pop("last_received_age_seconds")
    return document


def test_a_sharded_run_writes_the_same_document_as_a_run_in_one_process(stack, fleet, redis_client):
    from django.conf import settings

    from inference import cache
    from inference.model.storage import load_forecaster
    from inference.runner import run_team_predictions

    key, team_id, records, times = fleet
    tick = post_tick(stack, key, records, times[-2])
    wait_for_tick(stack, key, tick, timeout=180)
    idle(redis_client, team_id)
    sharded = requests.get(stack.url + "/predictions/current", headers={"X-API-Key": key}, timeout=60).json()
    stats = json.loads(redis_client.get(keys.team(team_id).run_stats))
    assert (sharded["tick"], stats["tick"]) == (tick, tick)
    assert [s["servers"] for s in stats["shards"]] == [SHARD] * (SERVERS // SHARD)
    assert len({s["worker"] for s in stats["shards"]}) == 2, stats  # both workers took shards
    assert redis_client.keys(f"argus:{{{team_id}}}:run:*:*") == []  # the run's keys are gone

    # the same windows, run whole in this process with the workers' model
    forecaster = load_forecaster(settings.ARGUS_MODEL_DIR, device="cpu")
    summary = run_team_predictions(team_id, forecaster)
    assert summary["shards"] == 1 and summary["tick"] == tick
    whole = json.loads(cache.predictions_json(team_id))

    sharded, whole = without_volatile(sharded), without_volatile(whole)
    assert len(whole["predictions"]) == SERVERS
    assert list(sharded["predictions"]) == list(whole["predictions"])  # every server, in name order
    assert sharded["insufficient_history"] == whole["insufficient_history"]
    assert (sharded["data_timestamp"], sharded["model"]) == (whole["data_timestamp"], whole["model"])
    exact = ("total_servers", "stale_servers", "insufficient_history")
    assert {k: sharded["summary"][k] for k in exact} == {k: whole["summary"][k] for k in exact}
    # levels, health and probabilities: equal up to float noise of a row's place in a batch
    for level in ("critical", "warning", "degraded", "healthy"):
        assert abs(sharded["summary"][level] - whole["summary"][level]) <= 2
    assert abs(sharded["summary"]["fleet_health"] - whole["summary"]["fleet_health"]) <= 0.1
    for p in ("prob_30m", "prob_8h"):
        assert abs(sharded["summary"][p] - whole["summary"][p]) <= 1e-3
    scores = np.array([[sharded["predictions"][n]["risk_score"], whole["predictions"][n]["risk_score"]]
                       for n in whole["predictions"]])
    assert np.abs(scores[:, 0] - scores[:, 1]).max() <= 1
    assert (scores[:, 0] == scores[:, 1]).mean() >= 0.99
    for name, entry in whole["predictions"].items():
        other = sharded["predictions"][name]
        assert (other["stale"], other["gaps"], other["last_point"], other["display_metrics"]) == (
            entry["stale"], entry["gaps"], entry["last_point"], entry["display_metrics"])
        for target, quantiles in entry["forecast"]["quantiles"].items():
            for q, values in quantiles.items():
                np.testing.assert_allclose(other["forecast"]["quantiles"][target][q], values, rtol=0, atol=0.05)
    pairs = {(a["server_name"], a["metric"]): a for a in whole["alerts"]}
    sharded_pairs = {(a["server_name"], a["metric"]): a for a in sharded["alerts"]}
    assert len(set(pairs) ^ set(sharded_pairs)) <= 2  # only a risk on a level's edge may differ
    common = set(pairs) & set(sharded_pairs)
    assert len(common) >= 0.98 * len(pairs)
    for pair in common:
        assert abs(pairs[pair]["risk_score"] - sharded_pairs[pair]["risk_score"]) <= 1
        assert pairs[pair]["since"] == sharded_pairs[pair]["since"]  # one timeline for the whole fleet


def test_a_shard_whose_worker_is_killed_mid_run_is_redone_and_the_document_is_whole(stack, fleet, redis_client):
    key, team_id, records, times = fleet
    idle(redis_client, team_id)
    tick = post_tick(stack, key, records, times[-1])
    lock = keys.team(team_id).run_lock
    deadline = time.monotonic() + 120
    victim = None
    while victim is None:  # a shard held by a shard task (not the coordinator) while it runs
        assert time.monotonic() < deadline, "no shard task was seen running"
        coordinator = redis_client.get(lock)
        if coordinator:
            claims = redis_client.hgetall(keys.team(team_id).shard_run(coordinator.decode()).claims)
            for shard, claim in claims.items():
                _, holder, worker = claim.decode().split("|", 2)
                if holder != coordinator.decode():
                    victim = (int(shard), worker)
                    break
        time.sleep(0.002)
    shard, worker = victim
    os.kill(int(worker.rsplit(":", 1)[1]), signal.SIGKILL)

    document = wait_for_tick(stack, key, tick, timeout=240)
    assert document["summary"]["total_servers"] == SERVERS
    assert set(document["predictions"]) == set(records["server_name"])
    stats = json.loads(redis_client.get(keys.team(team_id).run_stats))
    assert stats["tick"] == tick and len(stats["shards"]) == SERVERS // SHARD
    assert stats["shards"][shard]["worker"] != worker  # redone by another process
    assert all(w.poll() is None for w in stack.workers)  # bin/worker's Celery replaced the pool process
