"""Shared fixtures for the model tests: a tiny TFT trained for real in a few seconds.

Import the fixtures into a test module (`from model_fixtures import tiny_model_dir, ...`)."""
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

NAB_DIR = Path(__file__).resolve().parent / "data" / "nab"
REAL_DIR = Path(__file__).resolve().parent / "data" / "real"


@pytest.fixture(scope="session")
def tiny_fleet():
    # Tiny models gain nothing from 2 threads, and on a shared 2-core box 2 OpenMP threads run
    # several times slower than 1 (PITFALLS.md).
    import torch

    torch.set_num_threads(1)
    from inference.simulator import simulate_fleet

    return simulate_fleet(6, days=4, seed=3)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tiny_fleet):
    """A real (tiny, briefly trained) model saved to a directory."""
    from inference.model.storage import save_forecaster
    from inference.model.training import Series, TrainConfig, train_forecaster
    from inference.series_io import records_to_series

    records, _ = tiny_fleet
    series = [Series.of(s) for s in records_to_series(records)]
    cfg = TrainConfig(epochs=1, batches_per_epoch=4, batch_size=16, val_steps=288, val_stride=48,
                      hidden_size=8, hidden_continuous_size=4, attention_head_size=1,
                      progress=False, seed=0)
    result = train_forecaster(series, cfg, description={"purpose": "tests"})
    path = tmp_path_factory.mktemp("models") / "tiny"
    save_forecaster(result.forecaster, path)
    return path


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir):
    from inference.model.storage import load_forecaster

    return load_forecaster(tiny_model_dir, device="cpu")


@pytest.fixture(scope="session")
def fleet_inputs(tiny_fleet):
    """values [n, 600, 14], end_times and profiles for the last 50 hours of the tiny fleet (the
    window the runner reads: the encoder's day and the day before it, which the lagged inputs read)."""
    from inference.series_io import records_to_series

    records, _ = tiny_fleet
    series = records_to_series(records)
    values = np.stack([s["values"][-600:] for s in series])
    end_times = np.array([s["end_time"] for s in series], dtype=np.int64)
    profiles = [s["profile"] for s in series]
    return values, end_times, profiles
