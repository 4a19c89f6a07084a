"""Sharded runs in process, against a real Redis: the claims that hand shards out (leases,
redelivery, late tasks) and a coordinator that finds no other worker. The run across real
workers is tests/test_sharded_runs.py."""
import json
import time

import numpy as np
import pandas as pd
from model_fixtures import tiny_fleet, tiny_model, tiny_model_dir  # noqa: F401

from core import keys
from core.redis import run_script
from feeds.records import validate_batch
from feeds.windows import ServerList, append_batch, list_servers
from inference import cache
from inference.assembly import ServerPart, ShardResult
from inference.runner import run_team_predictions
from inference.sharding import NONE_FREE, RUN_GONE, STORE, claim, make_plan, read_plan, run_queued_shard, run_sharded
from registry.serving import Choice, LoadedModels
from tests.feeding import to_records


class Model:
    """What a plan reads of a forecaster."""

    version, device = "tft-test", "cpu"


def plan_of(team_id, servers=5, shard=2, run_id="run-1", settings=None):
    settings.ARGUS_SHARD_SERVERS = shard
    names = [f"web{i:03d}" for i in range(servers)]
    return make_plan(team_id, run_id, ServerList(7, 0, names, dict.fromkeys(names, 0)), Model(), None)


def queued_tasks(redis_client):
    return [json.loads(m)["headers"]["argsrepr"] for m in redis_client.lrange("argus:celery:inference", 0, -1)]


def store(plan, index):
    part = ShardResult(b"{}", [ServerPart("x", 1, False, 0.0, "healthy", 0.0, 0.0, {}, {})], [], {}, 1, "tft-test", 0.1)
    return run_script(STORE, [plan.keys.plan, plan.keys.claims, plan.keys.parts, plan.keys.done],
                      [index, part.fragment, part.meta_json()])


def test_a_plan_splits_the_servers_in_name_order_and_expires(redis_client, settings):
    plan = plan_of(7, servers=5, shard=2, settings=settings)
    assert plan.shards == 3 and read_plan(7, "run-1") == plan
    assert json.loads(redis_client.hget(plan.keys.plan, "s:2"))["names"] == ["web004"]
    assert 0 < redis_client.ttl(plan.keys.plan) <= settings.ARGUS_RUN_TIME_LIMIT + 60


def test_shards_are_claimed_once_from_the_top_and_a_redelivered_task_takes_its_own_back(settings):
    plan = plan_of(7, settings=settings)
    assert claim(plan, "coordinator", "w1:1") == 2  # the coordinator works from the top
    assert claim(plan, "task-a", "w2:2", index=0) == 0
    assert claim(plan, "task-b", "w2:3", index=0) == NONE_FREE  # held by a live task
    assert claim(plan, "task-a", "w2:4", index=0) == 0  # task-a redelivered (its process died)
    assert claim(plan, "coordinator", "w1:1") == 2  # still its own (a redelivered coordinator resumes it)
    assert store(plan, 2) == 1
    assert claim(plan, "coordinator", "w1:1") == 1
    assert claim(plan, "coordinator", "w1:1", index=1) == 1  # a renewal of its lease
    assert claim(plan, "task-b", "w2:3") == NONE_FREE  # 0 and 1 held, 2 done


def test_a_shard_whose_lease_ran_out_is_taken_over_and_the_first_part_stored_wins(redis_client, settings):
    plan = plan_of(7, settings=settings)
    settings.ARGUS_RUN_LEASE = 1
    assert claim(plan, "task-a", "w2:2", index=0) == 0
    time.sleep(1.05)  # task-a's worker froze: its lease runs out
    assert claim(plan, "coordinator", "w1:1", index=0) == 0
    assert store(plan, 0) == 1
    assert store(plan, 0) == 1  # task-a woke up and stored the same shard again: counted once
    assert redis_client.hget(plan.keys.claims, 0) is None
    assert claim(plan, "task-c", "w2:5", index=0) == NONE_FREE  # done


def test_a_shard_task_arriving_after_its_run_ended_does_nothing(redis_client, settings):
    plan = plan_of(7, settings=settings)
    redis_client.delete(*plan.keys.all)  # the run was published
    assert claim(plan, "task-a", "w2:2", index=0) == RUN_GONE
    assert store(plan, 0) == RUN_GONE
    assert run_queued_shard(7, "run-1", 0, "task-a", models=None, worker="w2:2") == "run gone"
    assert redis_client.keys(f"argus:{{7}}:run:run-1:*") == []


def test_a_coordinator_without_other_workers_does_every_shard_and_writes_the_whole_fleet(
        team_a, tiny_model, tiny_fleet, redis_client, settings):
    records, _ = tiny_fleet
    team_id = team_a.team.id
    recent = records[records["timestamp"] > records["timestamp"].max() - pd.Timedelta(hours=6)]
    append_batch(team_id, validate_batch(to_records(recent)))
    run_team_predictions(team_id, tiny_model)
    whole = json.loads(cache.predictions_json(team_id))

    settings.ARGUS_SHARD_SERVERS = 2  # 6 servers: 3 shards
    summary = run_sharded(team_id, "run-2", list_servers(team_id), Choice(tiny_model, None), "w1:1")
    sharded = json.loads(cache.predictions_json(team_id))
    assert (summary["shards"], summary["servers"], summary["models"]) == (3, 6, [tiny_model.version])
    assert len(queued_tasks(redis_client)) == 2  # one task per shard but the coordinator's first
    assert redis_client.keys(f"argus:{{{team_id}}}:run:run-2:*") == []
    stats = json.loads(redis_client.get(keys.team(team_id).run_stats))
    assert [s["worker"] for s in stats["shards"]] == ["w1:1"] * 3
    for volatile in ("age_seconds", "timestamp", "generated_at", "compute_seconds"):
        whole.pop(volatile), sharded.pop(volatile)
    for entry in (*whole["predictions"].values(), *sharded["predictions"].values()):
        entry.pop("last_received_age_seconds")
    assert {k: v for k, v in sharded.items() if k != "predictions"} == {k: v for k, v in whole.items() if k != "predictions"}
    assert list(sharded["predictions"]) == list(whole["predictions"])
    for name, entry in whole["predictions"].items():
        other = sharded["predictions"][name]
        assert {k: v for k, v in other.items() if k != "forecast"} == {k: v for k, v in entry.items() if k != "forecast"}
        # up to float noise of a row's place in a batch (values are rounded to 0.01)
        for target, quantiles in entry["forecast"]["quantiles"].items():
            for q, values in quantiles.items():
                np.testing.assert_allclose(other["forecast"]["quantiles"][target][q], values, rtol=0, atol=0.011)
    # the shard tasks the broker still holds find their run gone
    models = LoadedModels(tiny_model)
    assert run_queued_shard(team_id, "run-2", 0, "task-a", models, "w2:2") == "run gone"
