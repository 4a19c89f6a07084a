"""FastStandardScaler: scikit-learn's StandardScaler results without its per-call checks."""
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.preprocessing import StandardScaler

from inference.model.scaler import FastStandardScaler

FIT = pd.DataFrame({"x": np.random.default_rng(0).normal(40, 9, 500)})


@pytest.mark.parametrize("values", [
    torch.tensor(3.0).reshape(-1, 1),            # what TimeSeriesDataSet.__getitem__ passes
    np.array([[1.5], [np.nan], [80.0]]),
    np.array([[1.5], [2.0]], dtype=np.float32),
    FIT[["x"]],
    FIT[["x"]].astype("float32"),
], ids=["torch scalar", "float64 with NaN", "float32", "frame", "float32 frame"])
def test_transform_matches_scikit_learn_in_value_and_dtype(values):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn: "X does not have valid feature names"
        want = StandardScaler().fit(FIT[["x"]]).transform(values)
    got = FastStandardScaler().fit(FIT[["x"]]).transform(values)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_inverse_transform_round_trips():
    scaler = FastStandardScaler().fit(FIT[["x"]])
    x = np.array([[12.0], [55.5]])
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(x)), x)
