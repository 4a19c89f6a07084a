"""The training loss: quantile loss divided by each encoder window's spread."""
import numpy as np
import pytest
import torch
from pytorch_forecasting.metrics import QuantileLoss

from inference.model.losses import ScaledQuantileLoss, window_spread

QS = [0.1, 0.5, 0.9]


def test_window_spread_ignores_the_padding_after_each_window():
    rng = np.random.default_rng(0)
    data = rng.normal(50, 7, size=(3, 20))
    lengths = np.array([20, 12, 2])
    padded = data.copy()
    for i, n in enumerate(lengths):
        padded[i, n:] = 0.0  # the collate function pads with zeros
    got = window_spread(torch.tensor(padded), torch.tensor(lengths)).numpy()
    want = [np.std(data[i, :n], ddof=1) for i, n in enumerate(lengths)]
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_loss_is_the_quantile_loss_in_units_of_each_window_spread():
    rng = np.random.default_rng(1)
    B, L, H = 4, 30, 6
    # Same shape of error, scales a hundredfold apart: a busy CPU and a slowly filling disk.
    scale = torch.tensor([10.0, 10.0, 0.1, 0.1])
    encoder = torch.tensor(rng.normal(0, 1, (B, L))) * scale[:, None]
    lengths = torch.full((B,), L)
    target = torch.tensor(rng.normal(0, 1, (B, H))) * scale[:, None]
    pred = torch.tensor(rng.normal(0, 1, (B, H, 3))) * scale[:, None, None]

    natural = QuantileLoss(quantiles=QS, reduction="none")(pred, (target, None))
    scaled = ScaledQuantileLoss(quantiles=QS, reduction="none")(
        pred, (target, None), encoder_target=encoder, encoder_lengths=lengths)
    spread = window_spread(encoder, lengths)
    torch.testing.assert_close(scaled, natural / spread[:, None, None])
    # Natural units: the disk rows count ~1/100 of the CPU rows; scaled, they count alike.
    assert natural[2:].mean() < natural[:2].mean() / 20
    assert 0.2 < scaled[2:].mean() / scaled[:2].mean() < 5


def test_flat_window_is_weighted_by_the_floor_not_without_bound():
    flat = torch.zeros(1, 24)
    loss = ScaledQuantileLoss(quantiles=QS, floor=0.05, reduction="none")(
        torch.zeros(1, 4, 3), (torch.ones(1, 4), None),
        encoder_target=flat, encoder_lengths=torch.tensor([24]))
    natural = QuantileLoss(quantiles=QS, reduction="none")(
        torch.zeros(1, 4, 3), (torch.ones(1, 4), None))
    torch.testing.assert_close(loss, natural / 0.05)


def test_loss_refuses_to_run_without_the_encoder_window():
    with pytest.raises(ValueError, match="encoder_target"):
        ScaledQuantileLoss(quantiles=QS)(torch.zeros(1, 4, 3), (torch.ones(1, 4), None))


def test_natural_weight_adds_that_share_of_the_natural_loss():
    rng = np.random.default_rng(2)
    B, L, H = 3, 24, 5
    encoder = torch.tensor(rng.normal(0, 1, (B, L))) * torch.tensor([20.0, 1.0, 0.01])[:, None]
    lengths = torch.full((B,), L)
    target = torch.tensor(rng.normal(0, 3, (B, H)))
    pred = torch.tensor(rng.normal(0, 3, (B, H, 3)))

    natural = QuantileLoss(quantiles=QS, reduction="none")(pred, (target, None))
    mixed = ScaledQuantileLoss(quantiles=QS, natural_weight=0.2, reduction="none")(
        pred, (target, None), encoder_target=encoder, encoder_lengths=lengths)
    spread = window_spread(encoder, lengths).clamp_min(0.05)
    torch.testing.assert_close(mixed, natural / spread[:, None, None] + 0.2 * natural)
    # A wide window (an incident in view) keeps at least the natural share of its weight.
    assert (mixed[0] >= 0.2 * natural[0]).all() and (mixed[0] < 0.3 * natural[0]).all()
