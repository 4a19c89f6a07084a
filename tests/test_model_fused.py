"""The composed variable selection (inference/model/fused.py) against pytorch-forecasting's own."""
import numpy as np
import pytest
import torch
from model_fixtures import REPO, fleet_inputs, tiny_fleet, tiny_model, tiny_model_dir  # noqa: F401
from pytorch_forecasting.models.temporal_fusion_transformer.sub_modules import VariableSelectionNetwork

from inference.model.fused import fuse_variable_selection, library_variable_selection
from inference.model.storage import load_forecaster


MODEL_DIRS = {"shipped": REPO / "inference" / "default_model", "format 2": REPO / "tests" / "data" / "model_format2"}


@pytest.fixture(params=["tiny", *MODEL_DIRS])
def network(request, tiny_model):
    if request.param == "tiny":
        return tiny_model.network
    return load_forecaster(MODEL_DIRS[request.param], device="cpu").network


def selections(network):
    return {"encoder": network.encoder_variable_selection, "decoder": network.decoder_variable_selection}


def random_inputs(vsn, batch=5, steps=23, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = {name: 3 * torch.randn(batch, steps, 1, generator=g) for name in vsn.input_sizes}
    context = torch.randn(batch, steps, vsn.hidden_size, generator=g)
    return x, context


def test_a_tft_serves_its_encoder_and_decoder_selection_composed(network):
    for vsn in selections(network).values():
        assert "forward" in vsn.__dict__, "the serving network runs the library's variable selection"
    # the static selection reads a categorical embedding: it keeps the library's forward
    assert "forward" not in network.static_variable_selection.__dict__
    assert fuse_variable_selection(network) == 2  # fusing again is harmless


def test_the_composed_selection_equals_the_librarys(network):
    for part, vsn in selections(network).items():
        x, context = random_inputs(vsn)
        with torch.inference_mode():
            out, weights = vsn(x, context)
            want_out, want_weights = VariableSelectionNetwork.forward(vsn, x, context)
        assert out.shape == want_out.shape and weights.shape == want_weights.shape
        np.testing.assert_allclose(out.numpy(), want_out.numpy(), atol=1e-5, err_msg=part)
        np.testing.assert_allclose(weights.numpy(), want_weights.numpy(), atol=1e-6, err_msg=part)
        np.testing.assert_allclose(weights.sum(-1).numpy(), 1.0, atol=1e-5)


def test_the_whole_network_gives_the_same_forecast_either_way(tiny_model, fleet_inputs):
    values, end_times, profiles = fleet_inputs
    fc = tiny_model
    fast = fc.predict(values, end_times, profiles)
    with library_variable_selection(fc.network):
        assert "forward" not in fc.network.encoder_variable_selection.__dict__
        library = fc.predict(values, end_times, profiles)
    assert "forward" in fc.network.encoder_variable_selection.__dict__  # restored
    assert np.isfinite(fast).any()
    np.testing.assert_allclose(fast, library, atol=1e-4, rtol=1e-5)


def test_in_training_mode_the_librarys_forward_runs_with_its_dropout(tiny_model):
    vsn = tiny_model.network.encoder_variable_selection
    x, context = random_inputs(vsn)
    vsn.train()
    try:
        torch.manual_seed(7)
        out, _ = vsn(x, context)
        torch.manual_seed(7)
        want, _ = VariableSelectionNetwork.forward(vsn, x, context)
        torch.manual_seed(8)
        other, _ = vsn(x, context)
    finally:
        vsn.eval()
    assert torch.equal(out, want)
    assert not torch.equal(out, other)  # dropout is active, so the library's path did run
