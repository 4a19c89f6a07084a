"""Experiment (not in the serving path): does anchoring the forecast on the last observed value
help? The shipped model's step-1 median strays from the last value on slow metrics.

  .venv/bin/python bench/level_anchoring.py

Prints, on a held-out simulated fleet (45 servers, 7 days, seed 4242, replayed every 30
minutes): the 8-hour MAE per target of the model's P50 with and without anchoring, and the
incident benchmark (bench/incidents.py's rules) for the model + trends, anchored or not.
Anchoring shifts every quantile by (last value - step-1 P50) * RHO**h for step h."""
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import incidents as bench  # noqa: E402  (sets up Django and the path)

from feeds.schema import SLOT_SECONDS, profile_of  # noqa: E402
from inference.features import TARGETS, target_array  # noqa: E402
from inference.forecaster import load_forecaster  # noqa: E402
from inference.series_io import records_to_series  # noqa: E402
from inference.simulator import simulate_fleet  # noqa: E402
from inference.trend import raise_for_trends  # noqa: E402

RHO = np.array([0.9, 0.995, 0.9, 0.99, 0.9, 1.0])  # per target, in TARGETS order


def anchor(forecasts, last):
    offset = last - forecasts[:, 0, :, 1]
    decay = RHO[None, :] ** np.arange(forecasts.shape[1])[:, None]
    return forecasts + (offset[:, None, :] * decay[None])[..., None]


def main():
    import torch

    torch.set_num_threads(2)
    forecaster = load_forecaster(device="cpu")
    records, incidents = simulate_fleet(45, 7, 4242, incident_rate=0.15)
    incidents = bench.relabel(incidents, records)
    series = records_to_series(records)
    names = [s["name"] for s in series]
    values = np.stack([s["values"] for s in series])
    times = pd.date_range(records["timestamp"].min(), periods=values.shape[1], freq=f"{SLOT_SECONDS}s")
    end0 = series[0]["end_time"] - SLOT_SECONDS * (values.shape[1] - 1)
    profiles = [profile_of(n) for n in names]
    actual = target_array(values)
    logs, errors = {"model + trends": {}, "anchored + trends": {}}, {"model": [], "anchored": []}
    for t in range(bench.WINDOW - 1, values.shape[1] - 1, 6):
        window = values[:, t - bench.WINDOW + 1:t + 1]
        current, history = target_array(window[:, -1]), target_array(window)
        plain = forecaster.predict(window, np.full(len(names), end0 + t * SLOT_SECONDS), profiles)
        anchored = anchor(plain, current)
        logs["model + trends"][t] = bench.alerts_at(names, current, raise_for_trends(plain, history))
        logs["anchored + trends"][t] = bench.alerts_at(names, current, raise_for_trends(anchored, history))
        future = actual[:, t + 1:t + 1 + bench.HORIZON]
        if future.shape[1] == bench.HORIZON:
            errors["model"].append(np.nanmean(np.abs(plain[..., 1] - future), axis=(0, 1)))
            errors["anchored"].append(np.nanmean(np.abs(anchored[..., 1] - future), axis=(0, 1)))
    print("8-hour MAE of P50 per target: " + ", ".join(TARGETS))
    for label, rows in errors.items():
        print(f"  {label:<9} " + "  ".join(f"{v:.3f}" for v in np.mean(rows, axis=0)))
    for label, log in logs.items():
        r = bench.evaluate(log, incidents, times, actual, {n: i for i, n in enumerate(names)})
        print(f"{label:<18} recall {r['recall']:.2f} precision {r['precision']:.2f} "
              f"median lead {r['median_lead_minutes']:.0f} min, {r['alert_episodes']} alert episodes")


if __name__ == "__main__":
    main()
