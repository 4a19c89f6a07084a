"""A prediction run: aligning a team's windows for the model (the grid, gap filling,
staleness), then the whole run in process, from the windows in Redis to the prediction cache."""
import json
import time

import numpy as np
import pandas as pd
from model_fixtures import tiny_fleet, tiny_model, tiny_model_dir  # noqa: F401

from feeds.records import validate_batch
from feeds.schema import METRICS
from feeds.windows import RECORD, Snapshot, append_batch
from inference import cache
from inference.runner import align, fill_short_gaps, run_team_predictions
from tests.feeding import to_records


def window(slots, value_of=lambda s: float(s % 100)):
    records = np.zeros(len(slots), dtype=RECORD)
    records["slot"] = slots
    records["values"] = np.array([[value_of(s)] * len(METRICS) for s in slots], dtype=np.float32)
    return records


def snapshot(**windows):
    return Snapshot(tick=1, updated_ms=0, windows=windows, arrivals_ms={k: 0 for k in windows})


def test_each_window_ends_at_its_servers_newest_slot():
    inputs = align(snapshot(a=window([100, 101, 102]), b=window([90, 91])), slots=5, max_fill_slots=6, stale_slots=12)
    assert inputs.names == ["a", "b"]
    assert list(inputs.end_slots) == [102, 91]
    assert np.isnan(inputs.values[0, :2]).all() and list(inputs.values[0, 2:, 0]) == [100 % 100, 1, 2]
    assert list(inputs.values[1, 3:, 0]) == [90, 91]
    assert list(inputs.last_records["slot"]) == [102, 91]


def test_short_gaps_are_interpolated_and_long_ones_marked():
    inputs = align(snapshot(short=window([10, 13]), long=window([10, 20])), slots=11, max_fill_slots=3, stale_slots=12)
    short, long = inputs.values[1], inputs.values[0]
    assert list(short[-4:, 0]) == [10, 11, 12, 13]
    assert not inputs.gaps[1]
    assert inputs.gaps[0] and np.isnan(long[1:10, 0]).all()


def test_servers_lagging_the_team_by_more_than_the_limit_are_stale():
    inputs = align(snapshot(fresh=window([200]), late=window([188]), later=window([187])),
                   slots=3, max_fill_slots=6, stale_slots=12)
    assert dict(zip(inputs.names, inputs.stale)) == {"fresh": False, "late": False, "later": True}


def test_filling_leaves_a_window_with_one_point_alone():
    values = np.full((5, len(METRICS)), np.nan, dtype=np.float32)
    values[4] = 1.0
    assert fill_short_gaps(values, 3) is False
    assert np.isnan(values[:4]).all()


# --- one run, in process: windows in Redis -> the model -> the prediction cache -------------------

def store_last_hours(team_id, records, hours, rename=None):
    """Stores the fleet's last `hours` of records in the team's windows, as a feeder would."""
    recent = records[records["timestamp"] > records["timestamp"].max() - pd.Timedelta(hours=hours)]
    if rename:
        recent = recent.assign(server_name=recent["server_name"].replace(rename))
    return append_batch(team_id, validate_batch(to_records(recent)))


def test_a_run_caches_forecasts_for_every_server_with_enough_history(team_a, tiny_model, tiny_fleet):
    records, _ = tiny_fleet
    store_last_hours(team_a.team.id, records, hours=6)
    newcomer = records[records["server_name"] == records["server_name"].iloc[0]].tail(5)
    stats = append_batch(team_a.team.id, validate_batch(to_records(newcomer.assign(server_name="ppapi999"))))
    summary = run_team_predictions(team_a.team.id, tiny_model)
    assert summary["stored"] is True and summary["servers"] == records["server_name"].nunique()
    document = json.loads(cache.predictions_json(team_a.team.id))
    assert document["tick"] == stats.tick == json.loads(cache.alerts_json(team_a.team.id))["tick"]
    assert set(document["predictions"]) == set(records["server_name"])
    assert document["insufficient_history"] == {"ppapi999": 5}
    assert document["model"]["version"] == tiny_model.version
    assert cache.prediction_meta(team_a.team.id)["runs"] == 1


def test_a_run_never_overwrites_a_newer_tick(team_a, tiny_model, tiny_fleet):
    records, _ = tiny_fleet
    store_last_hours(team_a.team.id, records, hours=6)  # tick 1
    newer = {"tick": 99, "generated_at": time.time(), "model": {"version": "newer"}}
    assert cache.store_predictions(team_a.team.id, newer, {"tick": 99, "count": 0, "alerts": []})
    summary = run_team_predictions(team_a.team.id, tiny_model)  # a slow or redelivered run
    assert summary["stored"] is False
    assert json.loads(cache.predictions_json(team_a.team.id))["model"]["version"] == "newer"
    assert cache.prediction_meta(team_a.team.id) | {"generated_at": None} == {
        "tick": 99, "model": "newer", "runs": 2, "generated_at": None}


def test_a_renamed_server_gets_the_same_forecast(team_a, tiny_model, tiny_fleet):
    records, _ = tiny_fleet
    name = sorted(records["server_name"].unique())[0]
    twin = name[:-3] + "999"  # same prefix, so the same profile
    store_last_hours(team_a.team.id, records[records["server_name"] == name], hours=6)
    store_last_hours(team_a.team.id, records[records["server_name"] == name], hours=6, rename={name: twin})
    run_team_predictions(team_a.team.id, tiny_model)
    predictions = json.loads(cache.predictions_json(team_a.team.id))["predictions"]
    forecasts = [predictions[server]["forecast"]["quantiles"] for server in (name, twin)]
    # the same up to float noise of a row's place in the batch (values are rounded to 0.01)
    np.testing.assert_allclose(*(np.array([[q[t][k] for k in sorted(q[t])] for t in sorted(q)])
                                 for q in forecasts), rtol=0, atol=0.011)


def test_a_run_reads_and_writes_only_its_own_team(team_a, team_b, tiny_model, tiny_fleet):
    records, _ = tiny_fleet
    store_last_hours(team_a.team.id, records, hours=6)
    assert run_team_predictions(team_b.team.id, tiny_model) == {"tick": 0, "servers": 0, "stored": False}
    assert cache.predictions_json(team_b.team.id) is None
    run_team_predictions(team_a.team.id, tiny_model)
    assert cache.predictions_json(team_b.team.id) is None


def test_a_run_in_chunks_of_two_servers_writes_the_same_document(team_a, tiny_model, tiny_fleet):
    records, _ = tiny_fleet
    store_last_hours(team_a.team.id, records, hours=6)
    lagging = records[records["server_name"] == records["server_name"].iloc[0]]
    lagging = lagging[lagging["timestamp"] < records["timestamp"].max() - pd.Timedelta(hours=2)].tail(24)
    store_last_hours(team_a.team.id, lagging.assign(server_name="aaa001"), hours=48)  # first chunk, stale

    def document(chunk):
        run_team_predictions(team_a.team.id, tiny_model, chunk=chunk)
        body = json.loads(cache.predictions_json(team_a.team.id))
        for volatile in ("age_seconds", "timestamp", "generated_at", "compute_seconds"):
            body.pop(volatile)
        for entry in body["predictions"].values():
            entry.pop("last_received_age_seconds")
        return body

    whole, chunked = document(chunk=10_000), document(chunk=2)
    assert chunked["predictions"]["aaa001"]["stale"] is True  # judged against the whole team
    assert chunked["summary"]["stale_servers"] == 1
    assert (chunked["tick"], chunked["insufficient_history"]) == (whole["tick"], whole["insufficient_history"])
    assert list(chunked["predictions"]) == list(whole["predictions"])  # every server, in name order
    for name, entry in whole["predictions"].items():
        other = chunked["predictions"][name]
        assert (other["stale"], other["last_point"], other["gaps"]) == (entry["stale"], entry["last_point"], entry["gaps"])
        # the same up to float noise of a row's place in the batch (see the renamed-server test)
        for target, quantiles in entry["forecast"]["quantiles"].items():
            for q, values in quantiles.items():
                np.testing.assert_allclose(other["forecast"]["quantiles"][target][q], values, rtol=0, atol=0.011)
