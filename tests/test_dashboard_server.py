"""The server page's document (/dashboard/api/servers/<name>) and its page: six forecast
metrics with actuals, the forecast band and the threshold; alerts and timeline; 404 across teams."""
import json

import numpy as np
import pytest
from model_fixtures import tiny_fleet, tiny_model, tiny_model_dir  # noqa: F401

from inference import cache
from inference.model.features import TARGETS
from inference.scoring import threshold
from tests.dashboard_helpers import PASSWORD, explain_with, member, predicted


@pytest.fixture(autouse=True)
def _tiny_explainer(settings, tiny_model_dir):
    explain_with(settings, tiny_model_dir)


@pytest.fixture
def ana(client, team_a):
    member("ana", team_a)
    assert client.login(username="ana", password=PASSWORD)
    return client


def test_a_server_has_its_actuals_forecast_band_and_thresholds(ana, team_a, tiny_model, tiny_fleet):
    records = predicted(team_a, tiny_model, tiny_fleet, hours=30)
    name = sorted(records["server_name"].unique())[0]
    entry = json.loads(cache.predictions_json(team_a.team.id))["predictions"][name]
    body = ana.get(f"/dashboard/api/servers/{name}").json()
    assert body["status"] == "ok" and body["server_name"] == name and body["range"] == "1d"
    assert [m["name"] for m in body["metrics"]] == list(TARGETS)
    own = records[records["server_name"] == name].sort_values("timestamp")
    for metric in body["metrics"]:
        actual, forecast = metric["actual"], metric["forecast"]
        assert len(actual["values"]) == 288 and actual["step_seconds"] == 300
        assert forecast["p50"] == entry["forecast"]["quantiles"][metric["name"]]["p50"]
        assert len(forecast["p10"]) == len(forecast["p90"]) == 96
        assert metric["threshold"] == threshold(entry["profile"], metric["name"])
    memory = next(m for m in body["metrics"] if m["name"] == "mem_used_pct")["actual"]["values"]
    assert np.allclose(memory[-12:], own["mem_used_pct"].tail(12).to_numpy(), atol=0.01)
    assert body["display_metrics"] == entry["display_metrics"] and body["alert"] == entry["alert"]


def test_longer_ranges_come_from_history_averaged_to_a_chartable_size(ana, team_a, tiny_model, tiny_fleet):
    records = predicted(team_a, tiny_model, tiny_fleet, hours=96, archive=True)
    name = sorted(records["server_name"].unique())[0]
    week = ana.get(f"/dashboard/api/servers/{name}?range=7d").json()
    disk = next(m for m in week["metrics"] if m["name"] == "disk_usage_pct")["actual"]
    assert disk["step_seconds"] == 900 and len(disk["values"]) == 672
    held = [v for v in disk["values"] if v is not None]
    assert 300 <= len(held) <= 96 * 4  # the 4 days stored, in 15-minute means
    own = records[records["server_name"] == name]
    assert own["disk_usage_pct"].min() - 0.01 <= min(held) and max(held) <= own["disk_usage_pct"].max() + 0.01
    month = ana.get(f"/dashboard/api/servers/{name}?range=30d").json()
    assert len(month["metrics"][0]["actual"]["values"]) <= 720
    assert ana.get(f"/dashboard/api/servers/{name}?range=1y").status_code == 400


def test_another_teams_server_is_not_found_on_the_page_and_in_its_data(ana, team_a, team_b, tiny_model, tiny_fleet):
    predicted(team_b, tiny_model, tiny_fleet, prefix="b-")
    records = predicted(team_a, tiny_model, tiny_fleet)
    theirs = "b-" + records["server_name"].iloc[0]
    page = ana.get(f"/dashboard/servers/{theirs}")
    assert page.status_code == 404 and theirs.encode() in page.content and b"Traceback" not in page.content
    assert ana.get(f"/dashboard/api/servers/{theirs}").status_code == 404
    assert ana.get(f"/dashboard/api/explain/{theirs}").status_code == 404
    assert ana.get(f"/dashboard/servers/{records['server_name'].iloc[0]}").status_code == 200


def test_the_timeline_lists_the_servers_alert_transitions(ana, team_a, tiny_model, tiny_fleet):
    from datetime import datetime, timezone

    from timeline.models import AlertEvent

    records = predicted(team_a, tiny_model, tiny_fleet)
    name = records["server_name"].iloc[0]
    AlertEvent.objects.create(team=team_a.team, server_name=name, metric="mem_used_pct", event="opened",
                              level="warning", risk_score=65, message="Memory exhaustion predicted in 3 hours",
                              at=datetime(2025, 1, 1, tzinfo=timezone.utc))
    AlertEvent.objects.create(team=team_a.team, server_name="other", metric="cpu_pct", event="opened",
                              level="critical", risk_score=90, message="x", at=datetime(2025, 1, 1, tzinfo=timezone.utc))
    timeline = ana.get(f"/dashboard/api/servers/{name}").json()["timeline"]
    assert [(e["event"], e["level"], e["message"]) for e in timeline if e["at"] == "2025-01-01T00:00:00Z"] == \
        [("opened", "warning", "Memory exhaustion predicted in 3 hours")]


def test_one_parse_of_the_predictions_serves_every_server_page_of_the_tick(ana, client, team_a, tiny_model, tiny_fleet,
                                                                          redis_client):
    from core import keys

    records = predicted(team_a, tiny_model, tiny_fleet)
    names = sorted(records["server_name"].unique())
    hash_key = keys.team(team_a.team.id).dashboard_servers
    assert ana.get(f"/dashboard/api/servers/{names[0]}").status_code == 200
    assert redis_client.hget(hash_key, "tick") == b"1"
    assert {f"s:{n}".encode() for n in names} <= set(redis_client.hkeys(hash_key))
    # a server forgotten since is gone at once, not served from the kept entries
    assert client.delete(f"/feed/servers/{names[1]}", **team_a.headers).status_code == 200
    assert ana.get(f"/dashboard/api/servers/{names[1]}").status_code == 404
    assert ana.get(f"/dashboard/api/servers/{names[2]}").json()["status"] == "ok"


def test_a_server_warming_up_has_its_actuals_and_no_invented_forecast_or_explanation(ana, team_a, tiny_model, tiny_fleet):
    from inference.runner import run_team_predictions
    from tests.dashboard_helpers import fleet_records, store

    predicted(team_a, tiny_model, tiny_fleet)
    newcomer = fleet_records(tiny_fleet, hours=0.5).query("server_name == 'ppdb001'").assign(server_name="ppdb999")
    store(team_a, newcomer)
    run_team_predictions(team_a.team.id, tiny_model)
    body = ana.get("/dashboard/api/servers/ppdb999").json()
    assert body["status"] == "insufficient_history" and body["points"] == 6
    assert all("forecast" not in m for m in body["metrics"])
    assert body["metrics"][1]["threshold"] == threshold("database", "mem_used_pct")
    assert sum(v is not None for v in body["metrics"][1]["actual"]["values"]) == 6
    explanation = ana.get("/dashboard/api/explain/ppdb999")
    assert explanation.status_code == 409 and "it has 6" in explanation.json()["detail"]
