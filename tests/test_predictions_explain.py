"""GET /predictions/servers/<name>/explain: the model's own interpretation of one server's
current window (variable selection weights and attention), cached per tick, isolated per team."""
import numpy as np
import pandas as pd
import pytest
from model_fixtures import tiny_fleet, tiny_model, tiny_model_dir  # noqa: F401

from feeds.schema import profile_of
from inference.model.explain import CannotExplain, explain
from inference.runner import align
from tests.dashboard_helpers import explain_with, fleet_records, store


@pytest.fixture(autouse=True)
def model(settings, tiny_model_dir):
    return explain_with(settings, tiny_model_dir)


def get(client, tenant, name):
    return client.get(f"/predictions/servers/{name}/explain", **tenant.headers)


def test_each_group_of_weights_sums_to_one_and_names_the_networks_inputs(client, team_a, tiny_fleet, model):
    records = fleet_records(tiny_fleet, hours=30)
    stats = store(team_a, records)
    name = records["server_name"].iloc[0]
    response = get(client, team_a, name)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["server_name"], body["tick"], body["model"]) == (name, stats.tick, model.version)
    network = model.network
    assert list(body["variables"]["encoder"]) == list(network.encoder_variables)
    assert list(body["variables"]["decoder"]) == list(network.decoder_variables)
    assert list(body["variables"]["static"]) == list(network.static_variables)
    for group in body["variables"].values():
        assert abs(sum(group.values()) - 1) < 1e-9 and all(w >= 0 for w in group.values())
    attention = body["attention"]
    assert len(attention) == model.max_encoder  # 30 hours held: a full encoder
    assert abs(sum(a["weight"] for a in attention) - 1) < 1e-9
    last = records["timestamp"].max()
    assert attention[-1]["timestamp"] == last.strftime("%Y-%m-%dT%H:%M:%SZ") == body["window_end"]
    assert pd.Timestamp(attention[0]["timestamp"]) == pd.Timestamp(last, tz="UTC") - pd.Timedelta(minutes=5 * (model.max_encoder - 1))


def test_the_weights_are_the_networks_own_from_a_forward_pass(client, team_a, tiny_fleet, model):
    """The same window through the library's own variable selection (not fused.py's) and its
    interpret_output, batched with other servers, gives the same numbers."""
    import torch

    from inference.model.fused import library_variable_selection
    from inference.model.frames import history, yesterday_rows

    records = fleet_records(tiny_fleet, hours=30)
    store(team_a, records)
    names = sorted(records["server_name"].unique())
    body = get(client, team_a, names[2]).json()
    values = np.stack([records[records["server_name"] == n].sort_values("timestamp")[
        [c for c in records.columns if c not in ("timestamp", "server_name", "status")]].to_numpy(np.float32)
        for n in names])
    h = history(values, model.max_encoder, model.min_history)
    end = np.full(len(names), int(pd.Timestamp(records["timestamp"].max(), tz="UTC").timestamp()))
    yesterday = yesterday_rows(h.values, h.values.shape[1] - h.lengths) if model.lagged else None
    x = model._inputs(h.window, h.first, h.lengths, end, model._profile_codes([profile_of(n) for n in names]), yesterday)
    with torch.inference_mode(), library_variable_selection(model.network):
        reference = model.network.interpret_output(model.network(x), reduction="none")
    expected = reference["encoder_variables"][2].numpy()
    assert np.allclose(list(body["variables"]["encoder"].values()), expected / expected.sum(), atol=1e-5)
    expected = reference["static_variables"][2].numpy()
    assert np.allclose(list(body["variables"]["static"].values()), expected / expected.sum(), atol=1e-5)


def test_a_server_with_too_little_history_is_a_409_that_says_so(client, team_a, tiny_fleet, model):
    records = fleet_records(tiny_fleet, hours=0.5)  # 6 points per server
    store(team_a, records)
    response = get(client, team_a, records["server_name"].iloc[0])
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "insufficient_history" and "it has 6" in body["detail"] and "variables" not in body


def test_another_teams_server_is_a_404(client, team_a, team_b, tiny_fleet):
    records = fleet_records(tiny_fleet, hours=30, prefix="b-")
    store(team_b, records)
    name = records["server_name"].iloc[0]
    assert get(client, team_b, name).status_code == 200
    response = get(client, team_a, name)
    assert response.status_code == 404 and "variables" not in response.json()
    assert get(client, team_a, "nothing-here").status_code == 404


def test_it_needs_a_key_and_counts_against_the_read_limit(client, team_a, tiny_fleet):
    team_a.team.rate_read = "2/min"
    team_a.team.save()
    records = fleet_records(tiny_fleet, hours=30)
    store(team_a, records)
    name = records["server_name"].iloc[0]
    assert client.get(f"/predictions/servers/{name}/explain").status_code == 401
    assert [get(client, team_a, name).status_code for _ in range(3)] == [200, 200, 429]


def test_it_is_computed_once_per_tick(client, team_a, tiny_fleet, redis_client):
    from core import keys

    records = fleet_records(tiny_fleet, hours=30)
    store(team_a, records)
    name = records["server_name"].iloc[0]
    first = get(client, team_a, name).json()
    cached = keys.team(team_a.team.id).explanation(name)
    redis_client.set(cached, redis_client.get(cached).replace(b'"window_end"', b'"marker":1,"window_end"'))
    assert get(client, team_a, name).json()["marker"] == 1  # served from the cache
    last = records[records["timestamp"] == records["timestamp"].max()]
    store(team_a, last.assign(timestamp=last["timestamp"] + pd.Timedelta(minutes=5)))
    second = get(client, team_a, name).json()
    assert "marker" not in second and second["tick"] == first["tick"] + 1
    assert second["attention"][-1]["timestamp"] > first["attention"][-1]["timestamp"]


def test_the_model_side_refuses_a_window_without_enough_history(model):
    values = np.full((600, 14), np.nan, np.float32)
    values[-5:] = 50.0
    with pytest.raises(CannotExplain, match="it has 5"):
        explain(model, values, 1_700_000_000, "database")
    assert align  # the view aligns windows with the runner's own align (gap filling, grid)
