"""A StandardScaler whose transform skips scikit-learn's input validation.

TimeSeriesDataSet.__getitem__ rescales each target's centre and scale through its scaler for
every training sample, one value at a time: twelve calls per sample, each spending ~0.3 ms in
scikit-learn's checks for a subtraction and a division. That was a quarter of training time on
2 CPU cores. Same fitted attributes and same arithmetic (in place, in the input's float dtype),
so the serving path's exported normalisers and its results are unchanged.

Checkpoints pickle the scalers, so models trained with it load only where this module is
importable.
"""
import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler


class FastStandardScaler(StandardScaler):
    def transform(self, X, copy=None):
        # As scikit-learn: numpy and pandas input keep float32/float64; anything else (the
        # dataset passes torch scalars) becomes float64.
        keep = isinstance(X, (np.ndarray, pd.DataFrame, pd.Series))
        X = np.asarray(X)
        out = X.astype(X.dtype if keep and X.dtype in (np.float32, np.float64) else np.float64)
        if self.with_mean:
            out -= self.mean_.astype(out.dtype)
        if self.with_std:
            out /= self.scale_.astype(out.dtype)
        return out
