"""Live accuracy and the alert timeline through real prediction runs (in process, a real tiny
model, real Redis and database): a forecast served by one run is scored by a later run."""
import json

import numpy as np
import pandas as pd
from model_fixtures import tiny_fleet, tiny_model, tiny_model_dir  # noqa: F401

from feeds.records import validate_batch
from feeds.schema import METRICS, SLOT_SECONDS
from feeds.windows import append_batch
from inference import accuracy, cache
from inference.model.features import target_array
from inference.runner import run_team_predictions
from tests.feeding import to_records


def test_a_served_forecast_is_scored_an_hour_later_against_what_arrived(team_a, tiny_model, tiny_fleet, settings):
    settings.ARGUS_ACCURACY_ORIGIN_SLOTS = 1
    records, _ = tiny_fleet
    end = records["timestamp"].max()
    first, later = (records[(records["timestamp"] > end - pd.Timedelta(hours=30)) & (records["timestamp"] <= end - pd.Timedelta(hours=1))],
                    records[records["timestamp"] > end - pd.Timedelta(hours=1)])
    append_batch(team_a.team.id, validate_batch(to_records(first)))
    run_team_predictions(team_a.team.id, tiny_model)
    served = json.loads(cache.predictions_json(team_a.team.id))["predictions"]
    append_batch(team_a.team.id, validate_batch(to_records(later)))
    run_team_predictions(team_a.team.id, tiny_model)

    # by hand: each server's P50 for 12 steps after its last point, against the value fed there
    errors, naive_errors, covered = [], [], []
    for name, entry in served.items():
        target_time = pd.Timestamp(entry["last_point"].rstrip("Z")) + pd.Timedelta(seconds=12 * SLOT_SECONDS)
        rows = records[records["server_name"] == name].set_index("timestamp")
        actual = float(target_array(rows.loc[[target_time], list(METRICS)].to_numpy(np.float32))[0, 1])
        naive = float(target_array(rows.loc[[target_time - pd.Timedelta(days=1)], list(METRICS)]
                                   .to_numpy(np.float32))[0, 1])
        quantiles = entry["forecast"]["quantiles"]["mem_used_pct"]
        errors.append(abs(quantiles["p50"][11] - actual))
        naive_errors.append(abs(naive - actual))
        covered.append(quantiles["p10"][11] - 0.01 <= actual <= quantiles["p90"][11] + 0.01)
    figures = accuracy.team_accuracy(team_a.team.id)["metrics"]["mem_used_pct"]["horizons"]["1h"]
    assert figures["points"] == len(served) > 0
    assert abs(figures["mae"] - np.mean(errors)) < 0.006  # the document rounds to 0.01
    assert abs(figures["seasonal_naive_mae"] - np.mean(naive_errors)) < 1e-3
    assert figures["coverage_p10_p90"] == np.mean(covered)


def test_a_run_stamps_every_served_alert_with_since(team_a, tiny_model, tiny_fleet):
    records, _ = tiny_fleet
    recent = records[records["timestamp"] > records["timestamp"].max() - pd.Timedelta(hours=6)].copy()
    recent.loc[recent.index[-1], ["cpu_user_pct", "cpu_sys_pct", "cpu_idle_pct"]] = [90.0, 7.0, 1.0]  # breached now
    append_batch(team_a.team.id, validate_batch(to_records(recent)))
    run_team_predictions(team_a.team.id, tiny_model)
    document = json.loads(cache.predictions_json(team_a.team.id))
    alerts = json.loads(cache.alerts_json(team_a.team.id))["alerts"]
    assert alerts and alerts == document["alerts"]
    assert all(a["since"] == document["data_timestamp"] for a in alerts)  # all opened by this run
