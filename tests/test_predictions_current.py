"""GET /predictions/current end to end: real HTTP, a real Celery worker with the shipped model,
a simulated fleet fed as a feeder would."""
import time

import numpy as np
import pandas as pd
import pytest
import requests

from feeds.schema import profile_of
from inference.model.features import TARGETS
from inference.scoring import threshold
from inference.simulator import simulate_fleet
from tests.feeding import feed_frame, to_records, wait_for_predictions
from tests.live import LiveStack

LEVEL_COLOURS = {"critical": "#FF0000", "warning": "#FFA500", "degraded": "#FFD700", "healthy": "#00FF00"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory, redis_url):
    import redis

    redis.Redis.from_url(redis_url).flushall()  # once, here: the module keeps its data across tests
    stack = LiveStack(tmp_path_factory.mktemp("stack"), redis_url)
    stack.url = stack.start_web(workers=2, ARGUS_RATE_FEED="100000/min", ARGUS_RATE_READ="100000/min",
                                ARGUS_PREDICTIONS_STALE_SECONDS=2)
    stack.worker = stack.start_worker()
    yield stack
    stack.stop()


@pytest.fixture(autouse=True)
def _use_private_redis(redis_url):
    """This module's worker runs across tests: keep its heartbeat and queue (no flush)."""


@pytest.fixture(scope="module")
def fed_day(stack):
    """45 simulated servers, a day and a bit of history, fed to team alpha."""
    key = stack.create_key("alpha")
    records, _ = simulate_fleet(45, days=1.1, seed=11)
    tick = feed_frame(stack.url, key, records)
    return key, records, wait_for_predictions(stack.url, key, tick)


def test_every_server_gets_the_documented_shape(fed_day):
    key, records, document = fed_day
    assert set(document["predictions"]) == set(records["server_name"])
    assert document["age_seconds"] >= 0 and document["model"]["version"]
    assert document["summary"]["total_servers"] == 45
    assert sum(document["summary"][level] for level in LEVEL_COLOURS) == 45
    assert 0 <= document["summary"]["prob_30m"] <= document["summary"]["prob_8h"] <= 1
    last_point = pd.Timestamp(records["timestamp"].max(), tz="UTC")
    for name, server in document["predictions"].items():
        alert = server["alert"]
        assert alert["color"] == LEVEL_COLOURS[alert["level"]] and alert["score"] == server["risk_score"]
        forecast = server["forecast"]
        assert len(forecast["timestamps"]) == len(forecast["cpu_pct"]) == len(forecast["mem_pct"]) == 96
        assert pd.Timestamp(forecast["timestamps"][0]) == last_point + pd.Timedelta(minutes=5)
        assert set(forecast["quantiles"]) == set(TARGETS)
        for bands in forecast["quantiles"].values():
            assert set(bands) == {"p10", "p50", "p90"} and all(len(b) == 96 for b in bands.values())
            assert np.mean(np.array(bands["p10"]) <= np.array(bands["p90"])) > 0.95
        assert forecast["mem_pct"] == forecast["quantiles"]["mem_used_pct"]["p50"]
        assert server["stale"] is False and set(server["display_metrics"]) >= {"cpu_pct", "mem_pct", "status"}
        assert set(server["risks"]) == set(TARGETS) | {"back_close_wait", "front_close_wait"}


def test_alerts_are_one_per_server_and_problem(stack, fed_day):
    key, _, document = fed_day
    alerts = requests.get(stack.url + "/alerts/active", headers={"X-API-Key": key}, timeout=30).json()
    assert alerts["count"] == len(alerts["alerts"]) == len(document["alerts"])
    pairs = [(a["server_name"], a["metric"]) for a in alerts["alerts"]]
    assert len(pairs) == len(set(pairs))
    for alert in alerts["alerts"]:
        assert set(alert) >= {"server_name", "level", "risk_score", "profile", "message", "time_to_issue"}
        assert alert["level"] in ("critical", "warning", "degraded")


def test_status_shows_the_last_prediction_and_a_loaded_model(stack, fed_day):
    key, _, document = fed_day
    status = requests.get(stack.url + "/status", headers={"X-API-Key": key}, timeout=30).json()
    assert status["model_loaded"] is True and status["workers"] >= 1
    assert status["last_prediction"] == document["timestamp"]
    assert status["predictions_stale"] is False


def test_before_warm_up_it_says_how_many_records_are_missing(stack):
    key = stack.create_key("beta")
    records, _ = simulate_fleet(45, days=0.5, seed=2)
    feed_frame(stack.url, key, records[records["timestamp"] == records["timestamp"].min()])  # one tick
    body = requests.get(stack.url + "/predictions/current", headers={"X-API-Key": key}, timeout=30).json()
    assert body == {"error": "insufficient_data", "message": "Need at least 100 records, have 45", "predictions": {}}
    alerts = requests.get(stack.url + "/alerts/active", headers={"X-API-Key": key}, timeout=30).json()
    assert (alerts["count"], alerts["alerts"]) == (0, [])


def test_a_team_reads_only_its_own_predictions(stack, fed_day):
    key = stack.create_key("gamma")
    records, _ = simulate_fleet(3, days=0.5, seed=5)
    records["server_name"] = "gamma-" + records["server_name"]
    document = wait_for_predictions(stack.url, key, feed_frame(stack.url, key, records))
    assert set(document["predictions"]) == {f"gamma-{n}" for n in records["server_name"].str[6:].unique()}
    alpha = requests.get(stack.url + "/predictions/current", headers={"X-API-Key": fed_day[0]}, timeout=30).json()
    assert not any(name.startswith("gamma-") for name in alpha["predictions"])


def test_rapid_batches_coalesce_into_a_few_runs_and_the_last_is_covered(stack):
    key = stack.create_key("delta")
    records, _ = simulate_fleet(20, days=1.0, seed=8)
    times = sorted(records["timestamp"].unique())
    history, last_20 = records[records["timestamp"] < times[-20]], times[-20:]
    wait_for_predictions(stack.url, key, feed_frame(stack.url, key, history))
    runs_before = requests.get(stack.url + "/status", headers={"X-API-Key": key}, timeout=30).json()["prediction_runs"]
    for t in last_20:
        response = requests.post(stack.url + "/feed/data", json={"records": to_records(records[records["timestamp"] == t])},
                                 headers={"X-API-Key": key}, timeout=30)
    final_tick = response.json()["tick"]
    document = wait_for_predictions(stack.url, key, final_tick)
    assert document["tick"] == final_tick
    time.sleep(1.5)  # let any run still queued finish before counting
    runs = requests.get(stack.url + "/status", headers={"X-API-Key": key}, timeout=30).json()["prediction_runs"]
    assert 1 <= runs - runs_before <= 6


def test_a_building_memory_leak_is_flagged_before_it_breaches(stack):
    records, incidents = simulate_fleet(45, days=3, seed=7, incident_rate=0.15)
    # a leak whose labelled breach is also a breach by Argus's threshold for that profile
    # (a database at 95% memory is normal to Argus, so its leaks breach later)
    agrees = incidents["server_name"].map(lambda s: threshold(profile_of(s), "mem_used_pct")) <= incidents["threshold"]
    leak = incidents[(incidents["kind"] == "memory_leak") & incidents["breach_time"].notna() & agrees
                     & (incidents["onset"] > records["timestamp"].min() + pd.Timedelta(days=1))].iloc[0]
    cut = leak["breach_time"] - pd.Timedelta(minutes=60)
    key = stack.create_key("epsilon")
    window = records[(records["timestamp"] > cut - pd.Timedelta(days=1)) & (records["timestamp"] <= cut)]
    document = wait_for_predictions(stack.url, key, feed_frame(stack.url, key, window))
    server = document["predictions"][leak["server_name"]]
    assert server["risks"]["mem_used_pct"]["risk"] >= 60, server["risks"]
    assert server["alert"]["level"] in ("warning", "critical")
    assert any(a["server_name"] == leak["server_name"] and a["metric"] == "mem_used_pct" for a in document["alerts"])


def test_without_a_worker_reads_still_answer_and_status_says_stale(stack, fed_day):
    key, records, document = fed_day
    stack.worker.terminate()
    stack.worker.wait(30)
    next_tick = records[records["timestamp"] == records["timestamp"].max()].assign(
        timestamp=records["timestamp"].max() + pd.Timedelta(minutes=5))
    requests.post(stack.url + "/feed/data", json={"records": to_records(next_tick)}, headers={"X-API-Key": key}, timeout=30)
    time.sleep(2.5)
    body = requests.get(stack.url + "/predictions/current", headers={"X-API-Key": key}, timeout=30).json()
    assert body["tick"] == document["tick"] and body["age_seconds"] > document["age_seconds"]
    status = requests.get(stack.url + "/status", headers={"X-API-Key": key}, timeout=30).json()
    assert status["predictions_stale"] is True
