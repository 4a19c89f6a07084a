"""What a trained network carries that serving needs: plain-number copies of its fitted input
scalers and profile codes, which targets its normaliser centres on the last value, and a
version derived from its weights. Read from the network itself, so serving can never disagree
with training."""
from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np

from .features import TARGETS
from .spec import MAX_ENCODER, MIN_HISTORY, SEASONAL_LAG, SPECIAL_REALS, ModelLoadError


def extract_normalisers(network) -> dict:
    """{"reals": {input: {"mean", "scale"}}, "profile_codes": {profile: code}}."""
    params = getattr(network, "dataset_parameters", None)
    if not params:
        raise ModelLoadError("the checkpoint carries no dataset parameters")
    reals = {}
    for name in network.hparams.x_reals:
        if name in SPECIAL_REALS or name in TARGETS or name in lagged_targets(network):
            continue
        scaler = params["scalers"].get(name)
        if scaler is None or not hasattr(scaler, "mean_") or not hasattr(scaler, "scale_"):
            raise ModelLoadError(f"input {name!r} has no standard scaler")
        reals[name] = {"mean": float(np.ravel(scaler.mean_)[0]),
                       "scale": float(np.ravel(scaler.scale_)[0])}
    enc = params["categorical_encoders"]["profile"]
    codes = {str(k): int(v) for k, v in enc.classes_.items()}
    return {"reals": reals, "profile_codes": codes}


def centre_slots(network) -> dict:
    """{target: k} for the targets whose encoder normaliser centres on the mean of the last k
    values (the others centre on the window's mean). k never exceeds MIN_HISTORY, so every
    encoder holds k values."""
    from pytorch_forecasting.data import EncoderNormalizer

    normalisers = getattr(network.dataset_parameters["target_normalizer"], "normalizers", [])
    if len(normalisers) != len(TARGETS):
        raise ModelLoadError("the checkpoint's target normalisers do not match the targets")
    out = {}
    for target, n in zip(TARGETS, normalisers):
        length = n.max_length if isinstance(n, EncoderNormalizer) else "?"
        centre_on_recent = (isinstance(length, list) and len(length) == 2 and length[1] == MAX_ENCODER
                            and 1 <= length[0] <= MIN_HISTORY)
        if (not isinstance(n, EncoderNormalizer) or n.method != "standard" or not n.center
                or n.transformation is not None or not (length is None or centre_on_recent)):
            raise ModelLoadError(f"target {target!r} has a normaliser this adapter cannot reproduce: {n!r}")
        if centre_on_recent:
            out[target] = int(length[0])
    return out


def lagged_targets(network) -> dict:
    """{input name: target} for the network's lagged targets (normalised like their target)."""
    lags = network.dataset_parameters.get("lags") or {}
    out = {}
    for target, steps in lags.items():
        if target not in TARGETS or list(steps) != [SEASONAL_LAG]:
            raise ModelLoadError(f"lags {lags!r} are not ones this adapter can build")
        out[f"{target}_lagged_by_{SEASONAL_LAG}"] = target
    return out


def weights_version(network) -> str:
    """tft-<date>-<hash of the weights>: the same weights always get the same hash."""
    h = hashlib.sha256()
    for k, v in sorted(network.state_dict().items()):
        h.update(k.encode())
        h.update(v.detach().cpu().numpy().tobytes())
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d")
    return f"tft-{stamp}-{h.hexdigest()[:8]}"
