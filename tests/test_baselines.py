"""The baselines users would pick instead of the model, the series classes, and the real-host
readers and split the evaluation relies on."""
from pathlib import Path

import numpy as np
import pytest

from inference import baselines
from inference.evaluation import series_class
from inference.model.features import target_array
from inference.series_io import host_fold, host_group, read_series_file

REAL = Path(__file__).resolve().parent / "data" / "real"
DAY = baselines.SEASON


def daily(days, level=50.0, amplitude=20.0, noise=0.0, seed=0):
    t = np.arange(days * DAY)
    rng = np.random.default_rng(seed)
    return level + amplitude * np.sin(2 * np.pi * t / DAY) + rng.normal(0, noise, len(t))


def test_seasonal_naive_repeats_yesterday_and_is_missing_before_a_day():
    history = daily(2)
    np.testing.assert_array_equal(baselines.seasonal_naive(history, 96), history[DAY:DAY + 96])
    assert np.isnan(baselines.seasonal_naive(history[:100], 96)).all()


def test_the_level_adjusted_seasonal_naive_carries_todays_offset_and_lets_it_fade():
    history = daily(2)
    history[-DAY:] += 10.0  # today runs 10 points above yesterday
    forecast = baselines.level_adjusted_seasonal_naive(history, 96)
    shift = forecast - baselines.seasonal_naive(history, 96)
    np.testing.assert_allclose(shift, 10.0 * baselines.LEVEL_DECAY ** np.arange(1, 97))


def test_persistence_and_the_linear_trend_skip_missing_points():
    history = 3.0 + 0.5 * np.arange(48)
    history[-1] = np.nan
    assert baselines.persistence(history, 3).tolist() == [history[-2]] * 3
    np.testing.assert_allclose(baselines.linear(history, 2), 3.0 + 0.5 * np.array([48, 49]))


def test_autoets_follows_a_steady_climb():
    history = 10.0 + 0.05 * np.arange(3 * DAY) + np.random.default_rng(1).normal(0, 0.2, 3 * DAY)
    forecast = baselines.autoets(history, 96)
    expected = 10.0 + 0.05 * np.arange(3 * DAY, 3 * DAY + 96)
    assert forecast.shape == (96,) and np.abs(forecast - expected).mean() < 1.0


@pytest.mark.parametrize("series, kind", [
    (np.full(4 * DAY, 42.0), "flat"),
    (np.linspace(10, 90, 4 * DAY), "trending"),
    (daily(4, noise=0.5), "smooth daily"),
    (daily(4, noise=12.0), "noisy daily"),
    (np.random.default_rng(2).normal(50, 10, 4 * DAY), "irregular"),
])
def test_each_series_gets_the_class_its_shape_says(series, kind):
    assert series_class(series) == kind


def test_a_wide_real_host_file_becomes_one_cpu_series_per_host():
    [smd] = read_series_file(REAL / "smd_sample.csv.gz")
    [jump] = read_series_file(REAL / "jumpstarter_sample.csv.gz")
    assert (smd["name"], smd["group"], smd["eval_targets"]) == ("machine-1-5", "machine-1-5", ("cpu_pct",))
    assert (jump["name"], jump["group"]) == ("Dataset3_service2", "jumpstarter:service2")
    raw = np.loadtxt(REAL / "smd_sample.csv.gz", delimiter=",", skiprows=1, usecols=2)
    np.testing.assert_allclose(target_array(smd["values"])[:, 0], raw * 100, atol=1e-3)  # cpu_r is a [0, 1] share
    assert smd["values"].shape == (len(raw), 14)


def test_the_host_split_keeps_both_copies_of_a_jumpstarter_service_together():
    assert host_group("Dataset2_service7") == host_group("Dataset3_service7") == "jumpstarter:service7"
    folds = [host_fold(f"machine-{i}") for i in range(200)]
    assert set(folds) == {"train", "eval"} and 0.3 < folds.count("eval") / 200 < 0.5
    assert host_fold("machine-1-5") == host_fold("machine-1-5")  # stable, not random
