"""A model directory: model.ckpt (weights, architecture, dataset parameters), normalisers.json
(plain-number input scalers) and manifest.json (shape, features, training description,
library versions, the checkpoint's checksum).

Loading unpickles the checkpoint: load only directories you trust (never a path from a request).
The checkpoint pickles the loss (losses.py) and the input scalers (scaler.py) by module path, so
those modules stay where they are or old checkpoints stop loading."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import torch

from feeds.schema import METRICS, SLOT_SECONDS

from .features import KNOWN, OBSERVED, TARGETS
from .runtime import auto_device, quiet_lightning
from .serving import Forecaster
from .spec import FORMAT, FORMAT_VERSION, HORIZON, MAX_ENCODER, QUANTILES, READABLE_VERSIONS, ModelLoadError

CHECKPOINT_FILE = "model.ckpt"
MANIFEST_FILE = "manifest.json"
NORMALISERS_FILE = "normalisers.json"


def save_forecaster(fc: Forecaster, path) -> Path:
    """Write fc's model directory at path (created if needed)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    import lightning

    ckpt = {
        "state_dict": {k: v.detach().cpu() for k, v in fc.network.state_dict().items()},
        "hyper_parameters": dict(fc.network.hparams),
        "pytorch-lightning_version": lightning.__version__,
    }
    fc.network.on_save_checkpoint(ckpt)
    ckpt_path = path / CHECKPOINT_FILE
    torch.save(ckpt, ckpt_path)
    (path / NORMALISERS_FILE).write_text(json.dumps(fc.normalisers, indent=1) + "\n")
    import pytorch_forecasting

    hp = fc.network.hparams
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "version": fc.version,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "targets": list(fc.targets),
        "quantiles": list(fc.quantiles),
        "horizon": fc.horizon,
        "max_encoder": fc.max_encoder,
        "min_history": fc.min_history,
        "slot_seconds": SLOT_SECONDS,
        "input_metrics": list(METRICS),
        "features": {
            "targets": list(TARGETS),
            "observed": list(OBSERVED),
            "known": list(KNOWN),
            "static_categoricals": ["profile"],
            "x_reals": list(fc.x_reals),
            "x_categoricals": list(fc.x_categoricals),
            "target_normalisation": {
                t: f"per encoder window: (y - {_centre_text(fc.centre_slots.get(t))}) / (std(ddof=1) + eps)"
                for t in fc.targets},
        },
        "architecture": {
            "class": type(fc.network).__name__,
            "hidden_size": hp.hidden_size,
            "attention_head_size": hp.attention_head_size,
            "hidden_continuous_size": hp.hidden_continuous_size,
            "lstm_layers": hp.lstm_layers,
            "dropout": hp.dropout,
            "parameters": sum(p.numel() for p in fc.network.parameters()),
        },
        "training": fc.training,
        "libraries": {
            "torch": torch.__version__.split("+")[0],
            "pytorch_forecasting": pytorch_forecasting.__version__,
            "lightning": lightning.__version__,
        },
        "checkpoint": {"file": CHECKPOINT_FILE, "sha256": _sha256(ckpt_path)},
    }
    (path / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1, default=str) + "\n")
    return path


def _centre_text(k) -> str:
    return "mean" if k is None else "last value" if k == 1 else f"mean of the last {k} values"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_forecaster(path, device=None) -> Forecaster:
    """Load a model directory written by save_forecaster (trusted directories only) onto device
    (default: CUDA when torch sees a GPU, else CPU)."""
    path = Path(path)
    network, manifest = load_network(path)
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


def load_network(path):
    """(the checkpoint's TFT as the library built it, on the CPU, the manifest), checked against
    the manifest: what fine-tuning starts from (a Forecaster composes the network's variable
    selection for serving, which training must not see)."""
    path = Path(path)
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
    if manifest.get("format_version") not in READABLE_VERSIONS:
        raise ModelLoadError(
            f"{path} has model format version {manifest.get('format_version')}; this Argus "
            f"reads versions {', '.join(map(str, READABLE_VERSIONS))}. Retrain with `manage.py train_model`."
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
    return network, manifest
