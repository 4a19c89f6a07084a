"""The model adapter: the one module that imports pytorch-forecasting and Lightning (besides
its training loss, scaled_loss.py).

It builds, trains, saves, loads and runs the Temporal Fusion Transformer. Everything else in Argus
hands it numpy arrays of raw feed metrics and gets numpy forecasts back. It imports no Django.

Model shape (see docs/model.md): 5-minute steps, encoder up to 288 steps (24 h), horizon 96 steps
(8 h); six targets with P10/P50/P90; every feed metric as an observed input; time of day and day
of week as known inputs; the server profile as the only static category. No server identity is an
input and each target is normalised by its own encoder window, so unseen servers work: scaled by
the window's spread and centred on the window's last value (CPU, memory, swap, load: the network's
output is a change from now, so a level or a climb in progress is kept rather than pulled back to
the window's average) or on its mean (I/O wait and disk, whose last value is a poorer guide to
the next hours than the day's level: I/O wait is noisy, disk usage falls back at log rotation).

Serving does not build a TimeSeriesDataSet: `Forecaster.predict` assembles the network's input
tensors from arrays (the same arithmetic TimeSeriesDataSet.__getitem__ does, checked against
pytorch-forecasting's own predict() in tests/test_model_adapter.py) and runs the network in chunks
under torch.inference_mode.

Loading a model directory unpickles its checkpoint: load only directories you trust.
"""
from __future__ import annotations

import contextlib
import copy
import datetime as dt
import functools
import hashlib
import json
import logging
import math
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from feeds.schema import METRICS, PROFILES, SLOT_SECONDS, profile_of  # noqa: F401 (re-exported)

from .features import (
    KNOWN,
    OBSERVED,
    TARGETS,
    clip_to_ranges,
    fill_gaps,
    metric_features,
    time_features,
)

FORMAT = "argus-tft"
FORMAT_VERSION = 2  # 2: some targets centred on the last value (1: all on the window mean)
QUANTILES = (0.1, 0.5, 0.9)
HORIZON = 96
MAX_ENCODER = 288
MIN_HISTORY = 12
CHECKPOINT_FILE = "model.ckpt"
MANIFEST_FILE = "manifest.json"
NORMALISERS_FILE = "normalisers.json"
FLOAT32_EPS = float(torch.finfo(torch.float32).eps)  # what EncoderNormalizer adds to the scale
SPECIAL_REALS = ("encoder_length", "relative_time_idx")
# Targets whose per-window normalisation is centred on the last value (the rest: on the mean).
CENTRED_ON_LAST = ("cpu_pct", "mem_used_pct", "swap_used_pct", "load_average")

log = logging.getLogger(__name__)


class ModelLoadError(Exception):
    """A model directory is missing, corrupt or was written by an incompatible version."""


def default_model_dir() -> Path:
    """$ARGUS_MODEL_DIR if set, else the model committed with the code."""
    env = os.environ.get("ARGUS_MODEL_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent / "default_model"


def auto_device(device: str | None = None) -> str:
    if device:
        return str(device)
    return "cuda" if torch.cuda.is_available() else "cpu"


@contextlib.contextmanager
def quiet_lightning():
    """Silence Lightning's banners/tips and the libraries' advisory warnings."""
    names = ("lightning", "lightning.pytorch", "lightning.fabric", "pytorch_lightning",
             "lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero")
    saved = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            yield
        finally:
            for n, level in saved.items():
                logging.getLogger(n).setLevel(level)


# --------------------------------------------------------------------------------------------
# Training data
# --------------------------------------------------------------------------------------------


@dataclass
class Series:
    """One server's history on the 5-minute grid: values [T, 14] in METRICS order, NaN = gap."""

    name: str
    profile: str
    end_time: int  # epoch seconds of the last slot
    values: np.ndarray
    source: str = "simulated"

    def __post_init__(self):
        self.values = np.asarray(self.values, dtype=np.float32)
        if self.values.ndim != 2 or self.values.shape[1] != len(METRICS):
            raise ValueError(f"{self.name}: values must be [T, {len(METRICS)}]")


def feature_frame(series: list[Series]) -> pd.DataFrame:
    """Long frame for TimeSeriesDataSet: one row per slot with targets, inputs and time features.

    All series are aligned so that they end on the same time_idx; time_idx only orders rows and
    places the time-based validation cut, it is not a model input."""
    t_max = max(len(s.values) for s in series)
    parts = []
    for s in series:
        T = len(s.values)
        filled = fill_gaps(s.values[None])[0]
        feats = metric_features(filled)
        times = s.end_time - SLOT_SECONDS * np.arange(T - 1, -1, -1, dtype=np.int64)
        feats.update(time_features(times))
        frame = pd.DataFrame({k: feats[k].astype(np.float32) for k in TARGETS + OBSERVED + KNOWN})
        frame.insert(0, "profile", s.profile)
        frame.insert(0, "time_idx", np.arange(t_max - T, t_max, dtype=np.int64))
        frame.insert(0, "series", s.name)
        parts.append(frame)
    frame = pd.concat(parts, ignore_index=True)
    frame["series"] = frame["series"].astype(str)
    frame["profile"] = frame["profile"].astype(str)
    return frame


def _dataset(frame: pd.DataFrame, randomize: bool):
    from pytorch_forecasting import TimeSeriesDataSet
    from pytorch_forecasting.data import EncoderNormalizer, MultiNormalizer, NaNLabelEncoder

    from .fast_scaler import FastStandardScaler

    # every real input but the targets themselves (those are normalised per window)
    scaled = [*KNOWN, *OBSERVED, *SPECIAL_REALS,
              *(f"{t}_{part}" for t in TARGETS for part in ("center", "scale"))]
    return TimeSeriesDataSet(
        frame,
        time_idx="time_idx",
        target=list(TARGETS),
        group_ids=["series"],
        max_encoder_length=MAX_ENCODER,
        min_encoder_length=MIN_HISTORY,
        max_prediction_length=HORIZON,
        min_prediction_length=HORIZON,
        static_categoricals=["profile"],
        time_varying_known_reals=list(KNOWN),
        time_varying_unknown_reals=list(TARGETS) + list(OBSERVED),
        # Per-window normalisation: each sample's targets are scaled by the whole encoder's
        # standard deviation and centred on its mean or, with max_length [1, ...], on its last
        # point; no per-server normaliser (and no server identity) is stored or looked up.
        target_normalizer=MultiNormalizer(
            [EncoderNormalizer(max_length=[1, MAX_ENCODER] if t in CENTRED_ON_LAST else None)
             for t in TARGETS]),
        categorical_encoders={
            "profile": NaNLabelEncoder(add_nan=True),
            "series": NaNLabelEncoder(add_nan=True),
            "__group_id__series": NaNLabelEncoder(add_nan=True),
        },
        scalers={name: FastStandardScaler() for name in scaled},
        add_relative_time_idx=True,
        add_target_scales=True,
        add_encoder_length=True,
        randomize_length=True if randomize else None,
    )


@dataclass
class TrainConfig:
    epochs: int = 20
    batch_size: int = 64
    batches_per_epoch: int | None = 150
    val_steps: int = 2 * 288  # the last two days of every series are the validation period
    val_stride: int = 12  # one validation origin per hour
    hidden_size: int = 24
    attention_head_size: int = 2
    hidden_continuous_size: int = 12
    dropout: float = 0.1
    learning_rate: float = 3e-3
    patience: int = 4
    # Loss weight per target (TARGETS order). The quantile loss is in natural units, so smooth,
    # small-moving targets (memory, disk, swap) would otherwise count for little next to CPU.
    target_weights: tuple | None = None
    # "natural": pytorch-forecasting's quantile loss, in natural units; "scaled": in units of
    # each window's spread, so every series and target counts alike (inference/scaled_loss.py:
    # better forecasts, more false alerts); "mixed" (the shipped model's): scaled plus 0.2 x
    # natural, so windows that hold an incident keep their weight. docs/model.md has the figures.
    loss: str = "mixed"
    max_minutes: float | None = None
    seed: int = 0
    progress: bool = True
    threads: int | None = None
    # Processes that build training batches while torch computes (TimeSeriesDataSet assembles
    # and normalises every sample in Python, which otherwise leaves the model waiting). They
    # fork: keep torch at one thread when using them (see PITFALLS: fork after threads hangs).
    loader_workers: int = 0
    accelerator: str = "cpu"


@dataclass
class TrainResult:
    forecaster: "Forecaster"
    summary: dict = field(default_factory=dict)


def train_forecaster(series: list[Series], config: TrainConfig | None = None,
                     description: dict | None = None) -> TrainResult:
    """Train a TFT on `series` with a time-based validation split and early stopping."""
    import lightning.pytorch as pl
    from lightning.pytorch.callbacks import Callback, EarlyStopping
    from pytorch_forecasting import TemporalFusionTransformer
    from pytorch_forecasting.metrics import MultiLoss, QuantileLoss

    from .scaled_loss import MIXED_NATURAL_WEIGHT, ScaledQuantileLoss

    cfg = config or TrainConfig()
    losses = {"natural": QuantileLoss, "scaled": ScaledQuantileLoss,
              "mixed": functools.partial(ScaledQuantileLoss, natural_weight=MIXED_NATURAL_WEIGHT)}
    if cfg.loss not in losses:
        raise ValueError(f"loss must be one of {sorted(losses)}, not {cfg.loss!r}")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    started = time.monotonic()
    with quiet_lightning():
        pl.seed_everything(cfg.seed, workers=False, verbose=False)
        frame = feature_frame(series)
        t_max = int(frame["time_idx"].max()) + 1
        cut = t_max - cfg.val_steps
        train_ds = _dataset(frame[frame["time_idx"] < cut], randomize=True)
        val_ds = train_ds.from_dataset(
            train_ds, frame, min_prediction_idx=cut, stop_randomization=True, predict=False
        )
        # One full-length window per val_stride slots (the dataset also holds every shorter
        # encoder for the same origin, which would make validation slow and redundant).
        val_ds = val_ds.filter(
            lambda idx: ((idx.time_idx_first_prediction - cut) % cfg.val_stride == 0)
            & (idx.time_idx_first_prediction - idx.time_idx_first == MAX_ENCODER),
            copy=True,
        )
        train_dl = train_ds.to_dataloader(train=True, batch_size=cfg.batch_size,
                                          num_workers=cfg.loader_workers,
                                          persistent_workers=cfg.loader_workers > 0)
        val_dl = val_ds.to_dataloader(train=False, batch_size=256, num_workers=0)

        model = TemporalFusionTransformer.from_dataset(
            train_ds,
            hidden_size=cfg.hidden_size,
            attention_head_size=cfg.attention_head_size,
            hidden_continuous_size=cfg.hidden_continuous_size,
            dropout=cfg.dropout,
            learning_rate=cfg.learning_rate,
            loss=MultiLoss([losses[cfg.loss](quantiles=list(QUANTILES)) for _ in TARGETS],
                           weights=list(cfg.target_weights) if cfg.target_weights else None),
            output_size=[len(QUANTILES)] * len(TARGETS),
            reduce_on_plateau_patience=2,
            log_interval=-1,
        )

        class KeepBest(Callback):
            """Keep the weights of the best validation epoch in memory."""

            best = math.inf
            state = None
            history: list = []

            def on_validation_epoch_end(self, trainer, pl_module):
                if trainer.sanity_checking:
                    return
                val = float(trainer.callback_metrics.get("val_loss", math.inf))
                train = trainer.callback_metrics.get("train_loss_epoch")
                self.history.append({"epoch": trainer.current_epoch, "val_loss": val,
                                     "train_loss": None if train is None else float(train)})
                if val < self.best:
                    self.best = val
                    self.state = copy.deepcopy(pl_module.state_dict())

        keep = KeepBest()
        keep.history = []
        trainer = pl.Trainer(
            max_epochs=cfg.epochs,
            accelerator=cfg.accelerator,
            devices=1,
            gradient_clip_val=0.1,
            limit_train_batches=cfg.batches_per_epoch or 1.0,
            callbacks=[EarlyStopping(monitor="val_loss", patience=cfg.patience, mode="min"), keep],
            enable_progress_bar=cfg.progress,
            enable_model_summary=False,
            enable_checkpointing=False,
            logger=False,
            num_sanity_val_steps=0,
            max_time=None if not cfg.max_minutes else dt.timedelta(minutes=cfg.max_minutes),
        )
        trainer.fit(model, train_dataloaders=train_dl, val_dataloaders=val_dl)
        if keep.state is not None:
            model.load_state_dict(keep.state)
        model.eval()

    seconds = time.monotonic() - started
    n_params = sum(p.numel() for p in model.parameters())
    training = {
        "series": len(series),
        "sources": _count_sources(series),
        "rows": int(len(frame)),
        "train_samples": len(train_ds),
        "validation_samples": len(val_ds),
        "validation": f"last {cfg.val_steps} slots of every series (time-based split)",
        "config": cfg.__dict__.copy(),
        "epochs_run": int(trainer.current_epoch),
        "best_val_loss": None if keep.best == math.inf else keep.best,
        "history": keep.history,
        "seconds": round(seconds, 1),
        "threads": torch.get_num_threads(),
        **(description or {}),
    }
    fc = Forecaster(model, device="cpu", training=training)
    if cfg.accelerator != "cpu":
        fc = fc.to(auto_device())
    summary = {
        "parameters": n_params,
        "epochs_run": training["epochs_run"],
        "best_val_loss": training["best_val_loss"],
        "seconds": training["seconds"],
        "train_samples": training["train_samples"],
        "validation_samples": training["validation_samples"],
    }
    return TrainResult(fc, summary)


def _count_sources(series):
    out: dict[str, int] = {}
    for s in series:
        out[s.source] = out.get(s.source, 0) + 1
    return out


# --------------------------------------------------------------------------------------------
# The forecaster
# --------------------------------------------------------------------------------------------


class Forecaster:
    """A trained TFT plus what is needed to feed it from raw metric arrays."""

    targets: tuple[str, ...] = TARGETS
    quantiles: tuple[float, ...] = QUANTILES
    horizon: int = HORIZON
    max_encoder: int = MAX_ENCODER
    min_history: int = MIN_HISTORY

    def __init__(self, network, device: str = "cpu", training: dict | None = None,
                 version: str | None = None):
        self.network = network.eval()
        self.device = "cpu"
        self.training = training or {}
        self.normalisers = extract_normalisers(network)
        self.version = version or _new_version(network)
        self._x_reals = list(network.hparams.x_reals)
        self._x_cats = list(network.hparams.x_categoricals)
        self._centred_on_last = centred_on_last(network)
        if self._x_cats != ["profile"]:
            raise ModelLoadError(f"unexpected categorical inputs {self._x_cats}")
        self.to(device)

    def to(self, device: str) -> "Forecaster":
        self.device = auto_device(device)
        self.network.to(self.device)
        return self

    # ---- input checks ------------------------------------------------------------------------

    def history_ok(self, values) -> np.ndarray:
        """True for servers with at least min_history slots with data in the model's window."""
        v = np.asarray(values)
        window = v[:, -self.max_encoder:, :]
        points = np.isfinite(window).any(axis=2).sum(axis=1)
        return points >= self.min_history

    # ---- fast path ---------------------------------------------------------------------------

    def predict(self, values, end_times, profiles, chunk_size: int = 128) -> np.ndarray:
        """Forecasts [n_servers, horizon, len(targets), len(quantiles)] in natural units.

        values: [n_servers, T, 14] on the 5-minute grid, last index = newest slot, NaN = missing.
        Servers with too little history get NaN rows (see history_ok)."""
        values = np.asarray(values, dtype=np.float32)
        if values.ndim != 3 or values.shape[2] != len(METRICS):
            raise ValueError(f"values must be [n_servers, T, {len(METRICS)}], got {values.shape}")
        n = values.shape[0]
        end_times = np.asarray(end_times, dtype=np.int64).reshape(-1)
        if len(end_times) != n or len(profiles) != n:
            raise ValueError("values, end_times and profiles must have one entry per server")
        out = np.full((n, self.horizon, len(self.targets), len(self.quantiles)), np.nan,
                      dtype=np.float32)
        if n == 0:
            return out
        window = values[:, -self.max_encoder:, :]
        W = window.shape[1]
        has = np.isfinite(window).any(axis=2)
        ok = has.sum(axis=1) >= self.min_history
        first = np.argmax(has, axis=1)
        lengths = W - first
        codes = self._profile_codes(profiles)
        # Long windows first so each chunk pads to (nearly) its own length.
        order = np.flatnonzero(ok)
        order = order[np.argsort(-lengths[order], kind="stable")]
        with torch.inference_mode():
            for start in range(0, len(order), max(1, int(chunk_size))):
                idx = order[start:start + chunk_size]
                x = self._inputs(window[idx], first[idx], lengths[idx], end_times[idx], codes[idx])
                pred = self.network(x)["prediction"]
                out[idx] = torch.stack(list(pred), dim=2).float().cpu().numpy()
        return clip_to_ranges(out, self.targets)

    def _profile_codes(self, profiles) -> np.ndarray:
        classes = self.normalisers["profile_codes"]
        unknown = classes.get("nan", 0)
        return np.array([classes.get(str(p), unknown) for p in profiles], dtype=np.int64)

    def _inputs(self, window, first, lengths, end_times, codes) -> dict:
        """The network's input dict, as TimeSeriesDataSet + its collate function would build it."""
        B = len(lengths)
        M = int(lengths.max())
        steps = np.arange(M)
        valid = steps[None, :] < lengths[:, None]  # [B, M]; encoders are left-aligned, padded right
        src = np.minimum(first[:, None] + steps[None, :], window.shape[1] - 1)
        enc_raw = np.take_along_axis(window, src[:, :, None], axis=1)
        enc_raw = np.where(valid[:, :, None], enc_raw, np.nan)
        enc_raw = fill_gaps(enc_raw)  # NaN in the padding are filled too, and then zeroed below
        feats = metric_features(enc_raw)
        enc_times = end_times[:, None] - SLOT_SECONDS * (lengths[:, None] - 1 - steps[None, :])
        feats.update(time_features(enc_times))
        dec_times = end_times[:, None] + SLOT_SECONDS * np.arange(1, self.horizon + 1)[None, :]
        dec_feats = time_features(dec_times)

        scalers = self.normalisers["reals"]
        L = lengths.astype(np.float64)
        target_scale = []
        centers, scales = {}, {}
        for t in self.targets:
            y = np.where(valid, feats[t], 0.0)
            mean = y.sum(axis=1) / L
            var = (np.where(valid, feats[t] - mean[:, None], 0.0) ** 2).sum(axis=1) / np.maximum(L - 1, 1)
            s = np.sqrt(var).astype(np.float32).astype(np.float64) + FLOAT32_EPS
            if t in self._centred_on_last:
                c = feats[t][np.arange(B), lengths - 1]  # encoders are left-aligned
            else:
                c = mean
            centers[t], scales[t] = c, s
            target_scale.append(torch.from_numpy(np.stack([c, s], axis=1).astype(np.float32)))

        R = len(self._x_reals)
        enc = np.zeros((B, M, R), dtype=np.float32)
        dec = np.zeros((B, self.horizon, R), dtype=np.float32)
        for j, name in enumerate(self._x_reals):
            if name == "encoder_length":
                v = ((L - 0.5 * self.max_encoder) / self.max_encoder * 2.0)[:, None]
                enc[:, :, j] = v
                dec[:, :, j] = v
            elif name == "relative_time_idx":
                enc[:, :, j] = (steps[None, :] - lengths[:, None]) / self.max_encoder
                dec[:, :, j] = (np.arange(self.horizon) / self.max_encoder)[None, :]
            elif name in self.targets:
                enc[:, :, j] = (feats[name] - centers[name][:, None]) / scales[name][:, None]
            elif name.endswith("_center") and name[:-7] in self.targets:
                v = _scale(scalers[name], centers[name[:-7]])[:, None]
                enc[:, :, j] = v
                dec[:, :, j] = v
            elif name.endswith("_scale") and name[:-6] in self.targets:
                v = _scale(scalers[name], scales[name[:-6]])[:, None]
                enc[:, :, j] = v
                dec[:, :, j] = v
            elif name in KNOWN:
                enc[:, :, j] = _scale(scalers[name], feats[name])
                dec[:, :, j] = _scale(scalers[name], dec_feats[name])
            elif name in OBSERVED:
                enc[:, :, j] = _scale(scalers[name], feats[name])
            else:
                raise ModelLoadError(f"model input {name!r} is not one this adapter can build")
        enc[~valid] = 0.0  # the collate function pads with zeros
        dev = self.device
        cat = torch.from_numpy(codes).view(B, 1, 1)
        x = {
            "encoder_cont": torch.from_numpy(enc).to(dev),
            "decoder_cont": torch.from_numpy(dec).to(dev),
            "encoder_cat": cat.expand(B, M, 1).contiguous().to(dev),
            "decoder_cat": cat.expand(B, self.horizon, 1).contiguous().to(dev),
            "encoder_lengths": torch.from_numpy(lengths.astype(np.int64)).to(dev),
            "decoder_lengths": torch.full((B,), self.horizon, dtype=torch.long, device=dev),
            "target_scale": [ts.to(dev) for ts in target_scale],
        }
        return x

    # ---- pytorch-forecasting's own path (reference and benchmark) ---------------------------

    def reference_frame(self, values, end_times, profiles) -> tuple[pd.DataFrame, np.ndarray]:
        """The frame pytorch-forecasting's predict() needs for the same inputs as predict():
        each server's filled window plus 96 placeholder future rows."""
        values = np.asarray(values, dtype=np.float32)
        window = values[:, -self.max_encoder:, :]
        has = np.isfinite(window).any(axis=2)
        ok = has.sum(axis=1) >= self.min_history
        parts = []
        for i in np.flatnonzero(ok):
            first = int(np.argmax(has[i]))
            enc = fill_gaps(window[i:i + 1, first:])[0]
            L = len(enc)
            rows = np.concatenate([enc, np.repeat(enc[-1:], self.horizon, axis=0)])
            times = int(end_times[i]) + SLOT_SECONDS * np.arange(-L + 1, self.horizon + 1)
            feats = metric_features(rows)
            feats.update(time_features(times))
            frame = pd.DataFrame({k: feats[k].astype(np.float32)
                                  for k in TARGETS + OBSERVED + KNOWN})
            frame.insert(0, "profile", str(profiles[i]))
            frame.insert(0, "time_idx", np.arange(L + self.horizon, dtype=np.int64))
            frame.insert(0, "series", f"server{i}")
            parts.append(frame)
        return pd.concat(parts, ignore_index=True), np.flatnonzero(ok)

    def predict_with_library(self, values, end_times, profiles, batch_size: int = 128) -> np.ndarray:
        """Same contract as predict(), computed by TimeSeriesDataSet + model.predict()."""
        from pytorch_forecasting import TimeSeriesDataSet
        from pytorch_forecasting.data import NaNLabelEncoder

        n = len(values)
        out = np.full((n, self.horizon, len(self.targets), len(self.quantiles)), np.nan,
                      dtype=np.float32)
        frame, ok_idx = self.reference_frame(values, end_times, profiles)
        # The group id is bookkeeping only (not a model input): encode this frame's own names so
        # that predict() can report which row is which server.
        params = copy.deepcopy(self.network.dataset_parameters)
        for key in ("series", "__group_id__series"):
            params["categorical_encoders"][key] = NaNLabelEncoder(add_nan=True).fit(frame["series"])
        with quiet_lightning():
            ds = TimeSeriesDataSet.from_parameters(
                params, frame, predict=True, stop_randomization=True
            )
            dl = ds.to_dataloader(train=False, batch_size=batch_size, num_workers=0)
            accelerator = "gpu" if self.device.startswith("cuda") else "cpu"
            res = self.network.predict(
                dl, mode="quantiles", return_index=True,
                trainer_kwargs=dict(accelerator=accelerator, devices=1, logger=False,
                                    enable_progress_bar=False, enable_model_summary=False),
            )
        pred = np.stack([p.float().cpu().numpy() for p in res.output], axis=2)
        names = res.index["series"].to_numpy()
        rows = np.array([int(str(s)[len("server"):]) for s in names])
        out[rows] = pred
        assert set(rows) == set(ok_idx)
        return clip_to_ranges(out, self.targets)

    # ---- persistence -------------------------------------------------------------------------

    def save(self, path) -> Path:
        """Write the model directory: checkpoint (weights + architecture + dataset parameters),
        normalisers.json, manifest.json (features, version, training description, checksum)."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        import lightning

        ckpt = {
            "state_dict": {k: v.detach().cpu() for k, v in self.network.state_dict().items()},
            "hyper_parameters": dict(self.network.hparams),
            "pytorch-lightning_version": lightning.__version__,
        }
        self.network.on_save_checkpoint(ckpt)
        ckpt_path = path / CHECKPOINT_FILE
        torch.save(ckpt, ckpt_path)
        (path / NORMALISERS_FILE).write_text(json.dumps(self.normalisers, indent=1) + "\n")
        import pytorch_forecasting

        hp = self.network.hparams
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "version": self.version,
            "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "targets": list(self.targets),
            "quantiles": list(self.quantiles),
            "horizon": self.horizon,
            "max_encoder": self.max_encoder,
            "min_history": self.min_history,
            "slot_seconds": SLOT_SECONDS,
            "input_metrics": list(METRICS),
            "features": {
                "targets": list(TARGETS),
                "observed": list(OBSERVED),
                "known": list(KNOWN),
                "static_categoricals": ["profile"],
                "x_reals": list(self._x_reals),
                "x_categoricals": list(self._x_cats),
                "target_normalisation": {
                    t: f"per encoder window: (y - {'last value' if t in self._centred_on_last else 'mean'})"
                       " / (std(ddof=1) + eps)" for t in self.targets},
            },
            "architecture": {
                "class": type(self.network).__name__,
                "hidden_size": hp.hidden_size,
                "attention_head_size": hp.attention_head_size,
                "hidden_continuous_size": hp.hidden_continuous_size,
                "lstm_layers": hp.lstm_layers,
                "dropout": hp.dropout,
                "parameters": sum(p.numel() for p in self.network.parameters()),
            },
            "training": self.training,
            "libraries": {
                "torch": torch.__version__.split("+")[0],
                "pytorch_forecasting": pytorch_forecasting.__version__,
                "lightning": lightning.__version__,
            },
            "checkpoint": {"file": CHECKPOINT_FILE, "sha256": _sha256(ckpt_path)},
        }
        (path / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1, default=str) + "\n")
        return path


def _scale(params: dict, x) -> np.ndarray:
    return (np.asarray(x, dtype=np.float64) - params["mean"]) / params["scale"]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _new_version(network) -> str:
    h = hashlib.sha256()
    for k, v in sorted(network.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().cpu().numpy().tobytes())
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d")
    return f"tft-{stamp}-{h.hexdigest()[:8]}"


def extract_normalisers(network) -> dict:
    """Plain-number copies of the fitted input scalers and the profile codes."""
    params = getattr(network, "dataset_parameters", None)
    if not params:
        raise ModelLoadError("the checkpoint carries no dataset parameters")
    reals = {}
    for name in network.hparams.x_reals:
        if name in SPECIAL_REALS or name in TARGETS:
            continue
        scaler = params["scalers"].get(name)
        if scaler is None or not hasattr(scaler, "mean_") or not hasattr(scaler, "scale_"):
            raise ModelLoadError(f"input {name!r} has no standard scaler")
        reals[name] = {"mean": float(np.ravel(scaler.mean_)[0]),
                       "scale": float(np.ravel(scaler.scale_)[0])}
    enc = params["categorical_encoders"]["profile"]
    codes = {str(k): int(v) for k, v in enc.classes_.items()}
    return {"reals": reals, "profile_codes": codes}


def centred_on_last(network) -> tuple:
    """The targets whose encoder normaliser centres on the last value, read from the network's
    own dataset parameters (so the fast path can never disagree with training)."""
    from pytorch_forecasting.data import EncoderNormalizer

    normalisers = getattr(network.dataset_parameters["target_normalizer"], "normalizers", [])
    if len(normalisers) != len(TARGETS):
        raise ModelLoadError("the checkpoint's target normalisers do not match the targets")
    out = []
    for target, n in zip(TARGETS, normalisers):
        if (not isinstance(n, EncoderNormalizer) or n.method != "standard" or not n.center
                or n.transformation is not None or n.max_length not in (None, [1, MAX_ENCODER])):
            raise ModelLoadError(f"target {target!r} has a normaliser this adapter cannot reproduce: {n!r}")
        if n.max_length is not None:
            out.append(target)
    return tuple(out)


def load_forecaster(path=None, device=None) -> Forecaster:
    """Load a model directory written by Forecaster.save (trusted directories only)."""
    path = Path(path) if path is not None else default_model_dir()
    if not path.is_dir():
        raise ModelLoadError(f"model directory {path} does not exist")
    try:
        manifest = json.loads((path / MANIFEST_FILE).read_text())
    except FileNotFoundError:
        raise ModelLoadError(f"{path} has no {MANIFEST_FILE}: not an Argus model directory")
    except (ValueError, UnicodeDecodeError) as e:
        raise ModelLoadError(f"{path / MANIFEST_FILE} is not valid JSON: {e}")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ModelLoadError(f"{path} is not an {FORMAT} model directory")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ModelLoadError(
            f"{path} has model format version {manifest.get('format_version')}; this Argus "
            f"reads version {FORMAT_VERSION}. Retrain with `manage.py train_model`."
        )
    expected = {"targets": list(TARGETS), "quantiles": list(QUANTILES), "horizon": HORIZON,
                "max_encoder": MAX_ENCODER, "input_metrics": list(METRICS)}
    for key, want in expected.items():
        if manifest.get(key) != want:
            raise ModelLoadError(f"{path}: {key} is {manifest.get(key)!r}, this code needs {want!r}")
    ckpt_path = path / CHECKPOINT_FILE
    if not ckpt_path.is_file():
        raise ModelLoadError(f"{path} has no {CHECKPOINT_FILE}")
    want_sha = (manifest.get("checkpoint") or {}).get("sha256")
    if want_sha and _sha256(ckpt_path) != want_sha:
        raise ModelLoadError(f"{ckpt_path} is corrupt (checksum differs from the manifest)")
    try:
        from pytorch_forecasting import TemporalFusionTransformer

        with quiet_lightning():
            network = TemporalFusionTransformer.load_from_checkpoint(
                str(ckpt_path), map_location="cpu", weights_only=False
            )
    except Exception as e:  # any unpickling/shape error means the directory is unusable
        raise ModelLoadError(f"cannot load {ckpt_path}: {type(e).__name__}: {e}") from e
    if list(network.hparams.x_reals) != manifest["features"]["x_reals"]:
        raise ModelLoadError(f"{path}: checkpoint inputs differ from the manifest's feature list")
    fc = Forecaster(network, device="cpu", training=manifest.get("training"),
                    version=manifest.get("version"))
    try:
        saved = json.loads((path / NORMALISERS_FILE).read_text())
    except (OSError, ValueError) as e:
        raise ModelLoadError(f"{path / NORMALISERS_FILE} is missing or invalid: {e}")
    if saved != fc.normalisers:
        raise ModelLoadError(f"{path}: normalisers.json does not match the checkpoint")
    fc.manifest = manifest
    return fc.to(auto_device(device))
