"""The forecasting model: the only package that imports pytorch-forecasting and Lightning. It
imports no Django: callers hand it numpy arrays of raw feed metrics (and the model directory
from settings) and get numpy forecasts back.

  features    numpy feature derivation shared by training, serving and evaluation
  spec        the model's shape (targets, quantiles, horizon, window) and ModelLoadError
  frames      the history mask and the long-frame builder shared by every path below
  training    TrainConfig, train_forecaster and its dataset (losses.py, scaler.py beside it)
  serving     Forecaster: predict() from arrays, in chunks, without TimeSeriesDataSet
  introspect  what a trained network carries: input scalers, target centring, version
  storage     save and load a model directory (checkpoint, normalisers, manifest)
  reference   pytorch-forecasting's own predict() on the same inputs (tests and benches only)

Importing the package imports no torch: import the module you need (web processes import
features through scoring, never torch).
"""
