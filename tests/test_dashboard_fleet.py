"""The fleet page's document (/dashboard/api/fleet): the numbers /predictions/current and
/alerts/active serve, one small entry per server, cached per tick, isolated per team."""
import json

import pandas as pd
import pytest
from model_fixtures import tiny_fleet, tiny_model, tiny_model_dir  # noqa: F401

from inference import cache
from inference.runner import run_team_predictions
from tests.dashboard_helpers import LEVEL_COLOURS, PASSWORD, fleet_records, member, predicted, store


@pytest.fixture
def ana(client, team_a):
    member("ana", team_a)
    assert client.login(username="ana", password=PASSWORD)
    return client


def test_before_any_data_the_page_says_what_it_waits_for(ana, team_a):
    body = ana.get("/dashboard/api/fleet").json()
    assert body == {"status": "insufficient_data", "team": "team-a",
                    "message": "Waiting for data: need at least 100 records, have 0"}


def test_it_serves_every_server_with_the_levels_and_numbers_of_the_api(ana, client, team_a, tiny_model, tiny_fleet):
    records = predicted(team_a, tiny_model, tiny_fleet)
    api = json.loads(cache.predictions_json(team_a.team.id))
    body = ana.get("/dashboard/api/fleet").json()
    assert body["status"] == "ok" and body["tick"] == api["tick"] and body["model"] == api["model"]["version"]
    assert sorted(s["name"] for s in body["servers"]) == sorted(records["server_name"].unique())
    for server in body["servers"]:
        entry = api["predictions"][server["name"]]
        assert (server["level"], server["score"], server["profile"]) == (
            entry["alert"]["level"], entry["risk_score"], entry["profile"])
        assert server["cpu"] == entry["display_metrics"]["cpu_pct"] and server["stale"] is False
    assert body["summary"] == api["summary"]
    assert {level["level"]: level["color"] for level in body["levels"]} == LEVEL_COLOURS
    assert [level["label"] for level in body["levels"]] == ["Critical", "Warning", "Degraded", "Healthy"]
    assert [(a["server_name"], a["metric"], a["since"]) for a in body["alerts"]] == \
        [(a["server_name"], a["metric"], a["since"]) for a in api["alerts"]]
    assert 0 <= body["age_seconds"] < 60 and body["data_timestamp"] == api["data_timestamp"]


def test_it_stays_small_per_server(ana, team_a, tiny_model, tiny_fleet):
    predicted(team_a, tiny_model, tiny_fleet)
    servers = ana.get("/dashboard/api/fleet").json()["servers"]
    assert len(json.dumps(servers)) / len(servers) < 300  # bytes per server: no forecasts
    assert len(cache.predictions_json(team_a.team.id)) / len(servers) > 10_000


def test_a_new_run_replaces_the_cached_document(ana, team_a, tiny_model, tiny_fleet):
    predicted(team_a, tiny_model, tiny_fleet, hours=30)
    first = ana.get("/dashboard/api/fleet").json()
    last = fleet_records(tiny_fleet, hours=0.05)  # the newest tick, once more 5 minutes later
    store(team_a, last.assign(timestamp=last["timestamp"] + pd.Timedelta(minutes=5)))
    run_team_predictions(team_a.team.id, tiny_model)
    second = ana.get("/dashboard/api/fleet").json()
    assert second["tick"] == first["tick"] + 1 and second["data_timestamp"] > first["data_timestamp"]


def test_a_forgotten_server_leaves_the_page_at_once(ana, client, team_a, tiny_model, tiny_fleet):
    predicted(team_a, tiny_model, tiny_fleet)
    name = ana.get("/dashboard/api/fleet").json()["servers"][0]["name"]
    assert client.delete(f"/feed/servers/{name}", **team_a.headers).status_code == 200
    assert name not in [s["name"] for s in ana.get("/dashboard/api/fleet").json()["servers"]]


def test_a_team_sees_only_its_own_fleet(ana, team_a, team_b, tiny_model, tiny_fleet):
    predicted(team_b, tiny_model, tiny_fleet, prefix="b-")
    store(team_a, fleet_records(tiny_fleet, hours=2))  # team a has data, no prediction yet
    body = ana.get("/dashboard/api/fleet").json()
    assert body["status"] == "pending" and "servers" not in body


def test_the_run_writes_the_fleet_view_so_that_no_page_parses_the_predictions(team_a, tiny_model, tiny_fleet, redis_client):
    from core import keys

    predicted(team_a, tiny_model, tiny_fleet)
    stored = json.loads(redis_client.get(keys.team(team_a.team.id).fleet_view))
    assert stored["tick"] == json.loads(cache.predictions_json(team_a.team.id))["tick"]
    assert len(stored["value"]["servers"]) == 6
