"""What a trained network carries that serving needs: plain-number copies of its fitted input
scalers and profile codes, which targets its normaliser centres on the last value, and a
version derived from its weights. Read from the network itself, so serving can never disagree
with training."""
from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np

from .features import TARGETS
from .spec import MAX_ENCODER, SPECIAL_REALS, ModelLoadError


def extract_normalisers(network) -> dict:
    """{"reals": {input: {"mean", "scale"}}, "profile_codes": {profile: code}}."""
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
    """The targets whose encoder normaliser centres on the last value."""
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


def weights_version(network) -> str:
    """tft-<date>-<hash of the weights>: the same weights always get the same hash."""
    h = hashlib.sha256()
    for k, v in sorted(network.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().cpu().numpy().tobytes())
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d")
    return f"tft-{stamp}-{h.hexdigest()[:8]}"
