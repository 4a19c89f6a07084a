"""pytorch-forecasting's own path for the same inputs as Forecaster.predict: TimeSeriesDataSet
plus model.predict(). Slow (a Lightning Trainer per call); only tests, which check the fast
path against it, and bench/inference.py use it."""
from __future__ import annotations

import copy

import numpy as np

from .features import clip_to_ranges
from .frames import prediction_frame
from .fused import library_variable_selection
from .spec import SEASONAL_LAG
from .runtime import quiet_lightning
from .serving import Forecaster


def predict_with_library(fc: Forecaster, values, end_times, profiles, batch_size: int = 128) -> np.ndarray:
    """Same contract as fc.predict(), computed by TimeSeriesDataSet + model.predict()."""
    from pytorch_forecasting import TimeSeriesDataSet
    from pytorch_forecasting.data import NaNLabelEncoder

    out = np.full((len(values), fc.horizon, len(fc.targets), len(fc.quantiles)), np.nan, dtype=np.float32)
    lag = SEASONAL_LAG if fc.lagged else 0
    frame, ok_idx = prediction_frame(values, end_times, profiles, fc.horizon, lag)
    # The group id is bookkeeping only (not a model input): encode this frame's own names so
    # that predict() can report which row is which server.
    params = copy.deepcopy(fc.network.dataset_parameters)
    for key in ("series", "__group_id__series"):
        params["categorical_encoders"][key] = NaNLabelEncoder(add_nan=True).fit(frame["series"])
    with quiet_lightning(), library_variable_selection(fc.network):
        ds = TimeSeriesDataSet.from_parameters(params, frame, predict=True, stop_randomization=True)
        dl = ds.to_dataloader(train=False, batch_size=batch_size, num_workers=0)
        accelerator = "gpu" if fc.device.startswith("cuda") else "cpu"
        res = fc.network.predict(
            dl, mode="quantiles", return_index=True,
            trainer_kwargs=dict(accelerator=accelerator, devices=1, logger=False,
                                enable_progress_bar=False, enable_model_summary=False),
        )
    pred = np.stack([p.float().cpu().numpy() for p in res.output], axis=2)
    rows = np.array([int(str(s)[len("server"):]) for s in res.index["series"].to_numpy()])
    assert set(rows) == set(ok_idx)
    out[rows] = pred
    return clip_to_ranges(out, fc.targets)
