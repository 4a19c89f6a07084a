"""The TFT's own explanation of one server's forecast: its variable selection weights (which
inputs the encoder, the decoder and the static context drew on) and its attention over the
encoder's past steps, as pytorch-forecasting's interpret_output computes them from a forward pass.

Nothing here is estimated after the fact: the numbers are the network's softmax weights from the
same forward pass that forecasts (serving.Forecaster builds the inputs; the variable selection
runs fused.py's composed forward, which returns the library's own weights). They are shared by
all six targets: the TFT selects variables once, and only its output heads differ per target."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from feeds.schema import SLOT_SECONDS

from .frames import history, yesterday_rows


class CannotExplain(Exception):
    """The model cannot explain this server's window (too little history): no numbers at all."""


@dataclass
class Explanation:
    encoder: dict  # input -> weight, summing to 1
    decoder: dict
    static: dict
    attention: list  # [(epoch seconds of a past step, weight)], oldest first, summing to 1


def explain(forecaster, values: np.ndarray, end_time: int, profile: str) -> Explanation:
    """values [T, 14]: one server's window on the 5-minute grid (NaN = missing), its newest slot
    at end_time (epoch seconds)."""
    values = np.asarray(values, dtype=np.float32)[None]
    h = history(values, forecaster.max_encoder, forecaster.min_history)
    if not h.ok[0]:
        have = int(h.has[0].sum())
        raise CannotExplain(f"the model needs at least {forecaster.min_history} points in the last "
                            f"{forecaster.max_encoder} slots to forecast this server; it has {have}")
    network = forecaster.network
    yesterday = yesterday_rows(h.values, h.values.shape[1] - h.lengths) if forecaster.lagged else None
    x = forecaster._inputs(h.window, h.first, h.lengths, np.array([end_time], dtype=np.int64),
                           forecaster._profile_codes([profile]), yesterday)
    with torch.inference_mode():
        out = network(x)
        # the first forecast step's attention over the encoder's steps
        interpretation = network.interpret_output(out, reduction="none", attention_prediction_horizon=0)
    length = int(h.lengths[0])
    # attention is right-aligned on max_encoder_length: its last `length` columns are the encoder's steps
    attention = interpretation["attention"][0].float().cpu().numpy()[-length:]
    times = end_time - SLOT_SECONDS * np.arange(length - 1, -1, -1)
    return Explanation(
        encoder=_weights(network.encoder_variables, interpretation["encoder_variables"][0]),
        decoder=_weights(network.decoder_variables, interpretation["decoder_variables"][0]),
        static=_weights(network.static_variables, interpretation["static_variables"][0]),
        attention=list(zip(times.tolist(), _normalised(attention).tolist())),
    )


def _weights(names, weights) -> dict:
    return dict(zip(names, _normalised(weights.float().cpu().numpy()).tolist()))


def _normalised(weights: np.ndarray) -> np.ndarray:
    """Weights that are a softmax's (or the library's renormalised attention), divided by their sum
    once more so that float32 rounding cannot leave the total at 0.9999. Non-finite or all-zero
    weights are an error, not something to paper over."""
    weights = weights.astype(np.float64)
    total = weights.sum()
    if not np.isfinite(weights).all() or total <= 0:
        raise CannotExplain("the network returned no usable weights for this window")
    return weights / total
