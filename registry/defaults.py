"""The global default: the model directory shipped with the project (ARGUS_MODEL_DIR),
registered after every migrate, so a fresh installation has an active model for every team
and a new release's model replaces the old one as the global default. Reads the manifest
only: migrate never imports torch (a worker checks the checkpoint when it loads the blob)."""
import functools
import json
import logging
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import blobs

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=2)
def _packed(directory: str, stamp: float):
    return blobs.pack(directory)


def shipped_model(directory=None):
    """(manifest, blob) of the shipped model directory, or None if it is not one."""
    directory = Path(directory or settings.ARGUS_MODEL_DIR)
    try:
        manifest = json.loads((directory / "manifest.json").read_text())
        stamp = max(p.stat().st_mtime for p in directory.iterdir())
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or not manifest.get("version"):
        return None
    return manifest, _packed(str(directory), stamp)


def register_shipped_model(using="default", **kwargs) -> bool:
    """Makes the shipped model the active global default (post_migrate). True if that changed."""
    from .models import ForecastModel

    shipped = shipped_model()
    if shipped is None:
        log.warning("registry: %s is not a model directory; no global default registered", settings.ARGUS_MODEL_DIR)
        return False
    manifest, blob = shipped
    with transaction.atomic(using=using):
        models = ForecastModel.objects.using(using)
        current = models.filter(team=None, state=ForecastModel.ACTIVE).first()
        if current is not None and current.version == manifest["version"]:
            return False
        models.filter(team=None, state=ForecastModel.ACTIVE).update(state=ForecastModel.RETIRED)
        models.update_or_create(version=manifest["version"], defaults={
            "team": None, "state": ForecastModel.ACTIVE, "blob": blob, "sha256": blobs.sha256(blob),
            "size_bytes": len(blob), "manifest": manifest, "activated": timezone.now(),
            "description": {"source": "shipped with Argus", "training": manifest.get("training", {}).get("command")},
        })
    return True
