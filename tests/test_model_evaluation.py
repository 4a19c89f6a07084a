"""Evaluation protocol and the train/evaluate commands, run end to end on a tiny real model."""
import json
import subprocess
import sys

import numpy as np
import pytest
from model_fixtures import NAB_DIR, REAL_DIR, REPO, tiny_fleet, tiny_model, tiny_model_dir  # noqa: F401

from inference import baselines
from inference.evaluation import evaluate, origins, series_class
from inference.series_io import read_series_file

REQUIRED_KEYS = {"relative_mase", "relative_mase_vs_persistence", "relative_mase_vs_linear",
                 "wql", "coverage_80", "n_series", "n_origins"}


def test_origins_start_after_a_day_and_come_every_day_while_eight_hours_remain():
    assert origins(288 * 3, 96) == [288, 576]
    assert origins(288 * 3 + 96, 96) == [288, 576, 864]
    assert origins(300, 96) == []


def test_the_linear_baseline_extrapolates_a_least_squares_line():
    y = 3.0 + 0.5 * np.arange(24)
    np.testing.assert_allclose(baselines.linear(y, 4), 3.0 + 0.5 * np.arange(24, 28))


def test_a_nab_file_becomes_one_server_whose_total_cpu_is_the_value():
    [s] = read_series_file(NAB_DIR / "ec2_cpu_utilization_24ae8d.csv")
    raw = np.loadtxt(NAB_DIR / "ec2_cpu_utilization_24ae8d.csv", delimiter=",", skiprows=1,
                     usecols=1)
    from inference.model.features import target_array

    cpu = target_array(s["values"])[:, 0]
    assert s["profile"] == "generic" and s["values"].shape[1] == 14
    np.testing.assert_allclose(np.sort(cpu[np.isfinite(cpu)]), np.sort(raw), atol=1e-4)


def test_evaluation_compares_the_model_with_each_baseline_over_all_origins(tiny_model):
    [s] = read_series_file(NAB_DIR / "ec2_cpu_utilization_5f5533.csv")
    s["eval_targets"] = ("cpu_pct",)
    res = evaluate(tiny_model, [s])
    summary = res["summary"]
    assert REQUIRED_KEYS <= set(summary)
    assert summary["n_series"] == 1
    assert summary["n_origins"] == len(origins(len(s["values"]), 96))
    [row] = res["rows"]
    assert row["target"] == "cpu_pct" and row["points"] == 96 * summary["n_origins"]
    assert summary["relative_mase"] == pytest.approx(row["mae_model"] / row["mae_seasonal_naive"], rel=1e-12)
    assert 0 <= summary["coverage_80"] <= 1


def _manage(*args, timeout=240):
    proc = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_evaluate_model_ends_with_one_json_line_for_nab_and_simulated_data(tiny_model_dir):
    out = _manage("evaluate_model", "--model", str(tiny_model_dir), "--series",
                  str(NAB_DIR / "ec2_cpu_utilization_53ea38.csv"), "--simulated",
                  "--servers", "3", "--days", "3", "--seed", "424242", "--threads", "1")
    summary = json.loads(out.strip().splitlines()[-1])
    assert REQUIRED_KEYS <= set(summary)
    [nab] = read_series_file(NAB_DIR / "ec2_cpu_utilization_53ea38.csv")
    n_nab = len(origins(len(nab["values"]), 96))
    assert summary["n_origins"] == n_nab + 3 * 2  # 2 origins per simulated 3-day server


@pytest.mark.slow
def test_train_model_writes_a_model_that_loads(tmp_path):
    out = _manage("train_model", "--servers", "3", "--days", "3", "--epochs", "1",
                  "--batches-per-epoch", "2", "--batch-size", "8", "--hidden-size", "8",
                  "--val-days", "1", "--no-progress", "--output", str(tmp_path / "m"),
                  "--threads", "1", "--loader-workers", "1",  # batches built in a forked process
                  "--loss", "natural", "--fold", "train",  # 24ae8d is an evaluation-fold host: left out
                  "--extra-series", str(NAB_DIR / "ec2_cpu_utilization_24ae8d.csv"), str(REAL_DIR / "smd_sample.csv.gz"))
    summary = json.loads(out.strip().splitlines()[-1].removeprefix("summary: "))
    assert summary["epochs_run"] == 1 and summary["size_bytes"] < 10 * 1024 * 1024
    from inference.model.storage import load_forecaster

    fc = load_forecaster(tmp_path / "m", device="cpu")
    assert fc.training["extra_series"] == ["ec2_cpu_utilization_24ae8d.csv", "smd_sample.csv.gz"]
    assert "--loss natural" in fc.training["command"]
    assert "--threads 1 --loader-workers 1" in fc.training["command"]
    assert [type(m).__name__ for m in fc.network.loss.metrics] == ["QuantileLoss"] * 6
    assert fc.training["sources"] == {"simulated": 3, "smd:machine-1-5": 1}
    assert "--fold train" in fc.training["command"]
