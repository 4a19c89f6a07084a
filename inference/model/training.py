"""Training: a TimeSeriesDataSet over series of raw metrics, the TFT, and train_forecaster.

Each target is normalised by its own encoder window (no per-server normaliser, no server
identity as an input), so a trained model forecasts servers it never saw. The loss is in
losses.py, the fast input scaler in scaler.py; docs/model.md has the recipe and figures."""
from __future__ import annotations

import copy
import datetime as dt
import functools
import math
import time
from collections import Counter
from dataclasses import dataclass, field, fields

import numpy as np
import pandas as pd
import torch

from feeds.schema import METRICS, SLOTS_PER_DAY

from .features import KNOWN, OBSERVED, TARGETS
from .frames import feature_frame
from .runtime import auto_device, quiet_lightning
from .serving import Forecaster
from .spec import CENTRE_SLOTS, HORIZON, MAX_ENCODER, MIN_HISTORY, QUANTILES, SEASONAL_LAG, SPECIAL_REALS


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

    @classmethod
    def of(cls, record: dict) -> "Series":
        """From a series_io dict (which may carry more keys, e.g. its host group)."""
        return cls(**{f.name: record[f.name] for f in fields(cls) if f.name in record})


def dataset(frame: pd.DataFrame, randomize: bool):
    from pytorch_forecasting import TimeSeriesDataSet
    from pytorch_forecasting.data import EncoderNormalizer, MultiNormalizer, NaNLabelEncoder

    from .scaler import FastStandardScaler

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
        # <target>_lagged_by_288: known for every decoder step (the lag exceeds the horizon) and
        # normalised by the target's own window normaliser. The first day of each series only
        # feeds these lags: samples start after it.
        lags={t: [SEASONAL_LAG] for t in TARGETS},
        # Per-window normalisation: each sample's targets are scaled by the whole encoder's
        # standard deviation and centred on its mean or, with max_length [1, ...], on its last
        # point; no per-server normaliser (and no server identity) is stored or looked up.
        target_normalizer=MultiNormalizer(
            [EncoderNormalizer(max_length=[CENTRE_SLOTS[t], MAX_ENCODER] if t in CENTRE_SLOTS else None)
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


def dataset_like(network, frame: pd.DataFrame):
    """A training dataset over frame with network's own dataset parameters: its fitted input
    scalers and profile codes (a fine-tune must feed the inputs as the network learned them),
    its series encoder refitted to frame's series."""
    from pytorch_forecasting import TimeSeriesDataSet
    from pytorch_forecasting.data import NaNLabelEncoder

    params = copy.deepcopy(network.dataset_parameters)
    for name in ("series", "__group_id__series"):  # group ids: the new series, not the old ones
        params["categorical_encoders"][name] = NaNLabelEncoder(add_nan=True)
    return TimeSeriesDataSet.from_parameters(params, frame, stop_randomization=False)


def new_network(train_ds, cfg: "TrainConfig"):
    from pytorch_forecasting import TemporalFusionTransformer
    from pytorch_forecasting.metrics import MultiLoss, QuantileLoss

    from .losses import MIXED_NATURAL_WEIGHT, ScaledQuantileLoss

    losses = {"natural": QuantileLoss, "scaled": ScaledQuantileLoss,
              "mixed": functools.partial(ScaledQuantileLoss, natural_weight=MIXED_NATURAL_WEIGHT)}
    return TemporalFusionTransformer.from_dataset(
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


LOSSES = ("natural", "scaled", "mixed")


@dataclass
class TrainConfig:
    epochs: int = 20
    batch_size: int = 64
    batches_per_epoch: int | None = 150
    val_steps: int = 2 * SLOTS_PER_DAY  # the last two days of every series are the validation period
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
    # each window's spread, so every series and target counts alike (inference/model/losses.py:
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


class TrainingCancelled(Exception):
    pass


def watcher(report, cancelled, every: float = 2.0):
    """A Lightning callback for a training job: at most every `every` seconds, calls
    report({"epoch", "batch", "train_loss", "val_loss"}) and raises TrainingCancelled (out of
    fit, within one batch) once cancelled() is true."""
    from lightning.pytorch.callbacks import Callback

    class Watcher(Callback):
        last = -math.inf
        val_loss = None

        def on_validation_epoch_end(self, trainer, pl_module):
            if not trainer.sanity_checking:
                self.val_loss = float(trainer.callback_metrics.get("val_loss", math.nan))

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            if time.monotonic() - self.last < every:
                return
            self.last = time.monotonic()
            loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
            report({"epoch": trainer.current_epoch, "batch": batch_idx,
                    "train_loss": None if loss is None else round(float(loss), 5),
                    "val_loss": None if self.val_loss is None else round(self.val_loss, 5)})
            if cancelled():
                raise TrainingCancelled()

    return Watcher()


@dataclass
class TrainResult:
    forecaster: "Forecaster"
    summary: dict = field(default_factory=dict)


def train_forecaster(series: list[Series], config: TrainConfig | None = None,
                     description: dict | None = None, init: "Forecaster | None" = None,
                     fine_tune=None, callbacks=()) -> TrainResult:
    """Train a TFT on `series` with a time-based validation split and early stopping.
    init: start from this model's weights (same inputs and architecture) instead of at random.
    fine_tune: a network (storage.load_network) to go on training as it is: its own input
    scalers and profile codes, its architecture and loss; config's learning rate.
    callbacks: more Lightning callbacks (progress, cancellation)."""
    import lightning.pytorch as pl
    from lightning.pytorch.callbacks import Callback, EarlyStopping

    cfg = config or TrainConfig()
    if cfg.loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)}, not {cfg.loss!r}")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    started = time.monotonic()
    with quiet_lightning():
        pl.seed_everything(cfg.seed, workers=False, verbose=False)
        frame = feature_frame(series)
        t_max = int(frame["time_idx"].max()) + 1
        cut = t_max - cfg.val_steps
        if fine_tune is not None:
            train_ds = dataset_like(fine_tune, frame[frame["time_idx"] < cut])
        else:
            train_ds = dataset(frame[frame["time_idx"] < cut], randomize=True)
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

        if fine_tune is not None:
            model = fine_tune
            model.hparams.learning_rate = cfg.learning_rate
        else:
            model = new_network(train_ds, cfg)
        if init is not None:
            try:
                model.load_state_dict(init.network.state_dict())
            except RuntimeError as e:  # other inputs or sizes: a plain message, not a tensor dump
                raise ValueError(f"cannot start from model {init.version}: its inputs or architecture "
                                 f"differ from this training's ({str(e).splitlines()[0]})") from e

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
            callbacks=[EarlyStopping(monitor="val_loss", patience=cfg.patience, mode="min"), keep, *callbacks],
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
        "sources": dict(Counter(s.source for s in series)),
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
