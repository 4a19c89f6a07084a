"""A faster variable selection for serving: pytorch-forecasting's VariableSelectionNetwork with
its linear maps composed, for networks whose every input is a real (a TFT's encoder and decoder).

Each real input is one number per step: a prescaler Linear(1, d) feeds a per-variable gated
residual network (GRN), and all prescaled inputs, concatenated, feed the GRN that weighs the
variables. On 2 CPU threads these small layers were three fifths of the network's time. Every
map between the raw number and a nonlinearity is affine, so it composes into one:
- per variable: fc1∘prescaler is x·a + c; the GRN's residual (linear interpolation to the hidden
  size, times its gate) is x·r + s; fc2 then the gate's Linear is one Linear;
- the weighing GRN's fc1 and its residual interpolation read the concatenation, which is affine
  in the V raw numbers, so they become one [V, ·] matmul each and the concatenation (the largest
  tensor the library builds) is never made.
What is left is the nonlinearities (ELU, GLU, layer norms, softmax) on the same values, so the
results equal the library's to float rounding (tests/test_model_fused.py checks 1e-5).

Only in inference: a module in training mode (dropout) runs the library's forward. The composed
weights are rebuilt on every call (well under a millisecond), so a network trained further after
fusing stays right."""
from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from pytorch_forecasting.models.temporal_fusion_transformer.sub_modules import (
    GatedResidualNetwork, ResampleNorm, VariableSelectionNetwork)


def fuse_variable_selection(network) -> int:
    """Give each variable selection of network that reads only reals the composed forward.
    Returns how many (the others keep the library's forward)."""
    fused = 0
    for module in network.modules():
        if isinstance(module, VariableSelectionNetwork) and _fusable(module):
            module.forward = _ComposedForward(module)
            fused += 1
    return fused


def _fusable(vsn: VariableSelectionNetwork) -> bool:
    """The shapes a TFT builds for real inputs: a Linear(1, d) prescaler into a GRN with input
    and hidden size d < the VSN's hidden size, no context; a weighing GRN with a resampled residual."""
    names = list(vsn.input_sizes)
    if len(names) < 2 or any(n not in vsn.prescalers for n in names):
        return False
    for n in names:
        grn, pre = vsn.single_variable_grns[n], vsn.prescalers[n]
        d = vsn.input_sizes[n]
        if not (isinstance(pre, torch.nn.Linear) and pre.in_features == 1 and pre.out_features == d
                and isinstance(grn, GatedResidualNetwork) and grn.input_size == d == grn.hidden_size
                and grn.output_size == vsn.hidden_size != d and grn.context_size is None
                and not grn.residual and _plain_resample(grn.resample_norm)
                and not grn.gate_norm.add_norm.trainable_add):
            return False
    flat = vsn.flattened_grn
    return (flat.input_size != flat.output_size and not flat.residual
            and _plain_resample(flat.resample_norm) and not flat.gate_norm.add_norm.trainable_add)


def _plain_resample(norm) -> bool:
    return isinstance(norm, ResampleNorm) and norm.trainable_add and norm.input_size != norm.output_size


def _interpolation(n_in: int, n_out: int) -> torch.Tensor:
    """The [n_in, n_out] matrix of TimeDistributedInterpolation (linear, align_corners)."""
    eye = torch.eye(n_in)
    return F.interpolate(eye.unsqueeze(1), n_out, mode="linear", align_corners=True).squeeze(1)


class _ComposedForward:
    def __init__(self, vsn: VariableSelectionNetwork):
        self.vsn = vsn
        self.names = list(vsn.input_sizes)
        self.sizes = [vsn.input_sizes[n] for n in self.names]
        self.var_resample = {d: _interpolation(d, vsn.hidden_size) for d in set(self.sizes)}
        flat = vsn.flattened_grn
        self.flat_resample = _interpolation(flat.input_size, flat.output_size)

    def __call__(self, x: dict[str, torch.Tensor], context: torch.Tensor = None):
        vsn = self.vsn
        if vsn.training:
            return VariableSelectionNetwork.forward(vsn, x, context)
        values = torch.cat([x[n] for n in self.names], dim=-1)  # [..., V] raw inputs
        weights = vsn.softmax(self._weighing(values, context))  # [..., V]
        out = None
        for i, name in enumerate(self.names):
            o = self._variable(i, name, values[..., i:i + 1]) * weights[..., i:i + 1]
            out = o if out is None else out.add_(o)
        return out, weights.unsqueeze(-2)

    def _prescaled(self):
        """The concatenated prescalers as an affine map of the V raw inputs: (weight [V, D], bias [D])."""
        ws, bs = [], []
        for name in self.names:
            pre = self.vsn.prescalers[name]
            ws.append(pre.weight[:, 0])
            bs.append(pre.bias)
        w = torch.block_diag(*[w[None, :] for w in ws])  # [V, D]: input v feeds its own block
        return w, torch.cat(bs)

    def _weighing(self, values, context):
        """flattened_grn(concatenated prescaled inputs, context), without the concatenation."""
        grn = self.vsn.flattened_grn
        w, b = self._prescaled()
        resample = self.flat_resample.to(values) * torch.sigmoid(grn.resample_norm.mask) * 2.0
        residual = grn.resample_norm.norm(torch.addmm(b @ resample, values.flatten(0, -2), w @ resample)
                                          .view(*values.shape[:-1], -1))
        h = torch.addmm(grn.fc1(b), values.flatten(0, -2), w @ grn.fc1.weight.t()).view(*values.shape[:-1], -1)
        if context is not None:
            h = h + grn.context(context)
        h = grn.fc2(grn.elu(h))
        return grn.gate_norm(h, residual)

    def _variable(self, i: int, name: str, x):
        """single_variable_grns[name](prescalers[name](x)) for x [..., 1]."""
        vsn = self.vsn
        pre, grn = vsn.prescalers[name], vsn.single_variable_grns[name]
        pw, pb = pre.weight[:, 0], pre.bias
        # fc1(prescaled) and the residual's gated interpolation, each x * slope + intercept
        fc1 = grn.fc1
        h = F.elu(torch.addcmul(fc1(pb), x, fc1.weight @ pw))
        resample = self.var_resample[self.sizes[i]].to(x) * torch.sigmoid(grn.resample_norm.mask) * 2.0
        residual = grn.resample_norm.norm(torch.addcmul(pb @ resample, x, pw @ resample))
        # fc2 then the gate's Linear (no nonlinearity between; dropout is off in inference)
        glu = grn.gate_norm.glu.fc
        w = glu.weight @ grn.fc2.weight
        b = glu.weight @ grn.fc2.bias + glu.bias
        g = F.glu(F.linear(h, w, b), dim=-1)
        return grn.gate_norm.add_norm.norm(g + residual)


@contextlib.contextmanager
def library_variable_selection(network):
    """Within the block, network's variable selections run pytorch-forecasting's own forward
    (for the reference path that tests check serving against)."""
    modules = [m for m in network.modules() if isinstance(m.__dict__.get("forward"), _ComposedForward)]
    saved = [m.__dict__.pop("forward") for m in modules]
    try:
        yield
    finally:
        for m, forward in zip(modules, saved):
            m.forward = forward
