"""The training loss: quantile loss measured in units of each window's own spread.

pytorch-forecasting's QuantileLoss is computed in natural units, so a busy server's CPU (errors of
several percent) outweighs a disk's steady climb (errors of hundredths of a percent) a
hundredfold, and the network learns disk, swap and quiet servers hardly at all. Argus is judged
per server and metric, relative to how much that series moves (relative MASE), so the loss is
divided by the spread (standard deviation) of the sample's encoder window: every series and
target counts alike, as the evaluation counts them. The floor keeps a flat window (swap at 0)
from weighing without bound.

Measured (docs/model.md): much better forecasts by relative MASE, but a window that holds an
incident has a large spread, so errors after it look cheap; such a model forecast a cleaned-up
disk straight back to full and alerted more often. `natural_weight` adds back a share of the
natural-unit loss (weight per sample 1/spread + natural_weight), so those windows keep their
weight: the "mixed" loss, the default, kept the better forecasts at the natural loss's alert
precision.

Checkpoints pickle the loss, so models trained with it load only where this module is importable.
"""
from __future__ import annotations

import torch
from pytorch_forecasting.metrics import QuantileLoss

# The "mixed" loss's share of natural-unit loss: a window whose spread is 5 (a CPU with an
# incident in view) keeps as much weight from it as from its scaled part.
MIXED_NATURAL_WEIGHT = 0.2


class ScaledQuantileLoss(QuantileLoss):
    def __init__(self, quantiles=None, floor: float = 0.05, natural_weight: float = 0.0, **kwargs):
        super().__init__(quantiles=quantiles, **kwargs)
        self.floor = floor
        self.natural_weight = natural_weight

    def update(self, y_pred, target, encoder_target=None, encoder_lengths=None):
        if encoder_target is None or encoder_lengths is None:
            raise ValueError("ScaledQuantileLoss needs encoder_target and encoder_lengths")
        # The library's update unpacks targets and weights and masks; loss() weights by this.
        self._spread = window_spread(encoder_target, encoder_lengths).clamp_min(self.floor)
        super().update(y_pred, target)

    def loss(self, y_pred, target):
        weight = 1.0 / self._spread + self.natural_weight
        return super().loss(y_pred, target) * weight[:, None, None]


def window_spread(encoder_target: torch.Tensor, encoder_lengths: torch.Tensor) -> torch.Tensor:
    """Standard deviation (ddof=1) of each encoder window [B, L], padded after its length: the
    scale the target normaliser divides by, so the loss is the network's own normalised error."""
    steps = torch.arange(encoder_target.size(1), device=encoder_target.device)
    valid = (steps[None, :] < encoder_lengths[:, None]).to(encoder_target.dtype)
    n = valid.sum(dim=1)
    mean = (encoder_target * valid).sum(dim=1) / n
    var = (((encoder_target - mean[:, None]) * valid) ** 2).sum(dim=1) / (n - 1).clamp_min(1)
    return var.sqrt()
