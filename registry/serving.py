"""Which model a team's prediction run uses, for inference workers (and the web process's
explanations): the team's own active model, else the global default. The global default is the
model directory every worker loads at start (ARGUS_MODEL_DIR, the same model migrate registers
as the global row). The registry is asked at every run (promotion and rollback are a row change
that the next run sees; no restart); a team's model is loaded from its blob once per process and
kept in a least-recently-used cache of ARGUS_MAX_LOADED_MODELS models.

A model that cannot be used (a corrupt blob, a format this code does not read, the database
unreachable) never takes a team down: the run uses the global default, and the fallback is kept
in Redis for GET /status until a run uses the wanted model again. A version that failed to load
is not retried for BROKEN_RETRY_SECONDS, so a bad blob costs one attempt, not one per run."""
import json
import logging
import tempfile
import time
from collections import OrderedDict

from django.conf import settings
from django.db import DatabaseError

from core import keys
from core.redis import REDIS_DOWN_ERRORS, get_redis
from inference.model_source import Choice

from .blobs import unpack
from .models import ForecastModel

log = logging.getLogger(__name__)

BROKEN_RETRY_SECONDS = 300
FALLBACK_TTL = 7 * 24 * 3600


def own_active(team_id):
    """(version, sha256) of the team's own active model, or None (it uses the global default)."""
    return (ForecastModel.objects.filter(team_id=team_id, state=ForecastModel.ACTIVE)
            .values_list("version", "sha256").first())


class LoadedModels:
    """One worker process's models. `default` is the directory model loaded at start."""

    def __init__(self, default, max_loaded=None):
        self.default = default
        self.max_loaded = max_loaded or settings.ARGUS_MAX_LOADED_MODELS
        self._loaded = OrderedDict()  # version -> Forecaster, least recently used first
        self._broken = {}  # version -> (error, when)

    def __len__(self):
        return len(self._loaded)

    def report(self, team_id, choice: Choice):
        report(team_id, choice)

    def for_team(self, team_id) -> Choice:
        try:
            own = own_active(team_id)
        except DatabaseError as e:
            return Choice(self.default, None, f"model registry unreachable ({type(e).__name__})")
        if own is None:
            return Choice(self.default, self.default.version)
        version, sha = own
        try:
            return Choice(self.get(version, sha), version, sha256=sha)
        except (ValueError, DatabaseError) as e:
            return Choice(self.default, version, f"{version}: {e}")

    def get(self, version, sha):
        if version == self.default.version:
            return self.default
        if version in self._loaded:
            self._loaded.move_to_end(version)
            return self._loaded[version]
        broken = self._broken.get(version)
        if broken and time.monotonic() - broken[1] < BROKEN_RETRY_SECONDS:
            raise ValueError(broken[0])
        try:
            forecaster = load(version, sha)
        except DatabaseError:
            raise  # the registry is unreachable: says nothing about the model
        except Exception as e:  # whatever a bad blob raises, it must not stop the run
            error = f"cannot be loaded: {e}"
            self._broken[version] = (error, time.monotonic())
            log.warning("model %s %s", version, error)
            raise ValueError(error) from e
        self._broken.pop(version, None)
        self._loaded[version] = forecaster
        while len(self._loaded) > self.max_loaded:
            self._loaded.popitem(last=False)
        return forecaster


def load(version, sha):
    """The registered model's Forecaster, unpacked into a temporary directory and loaded."""
    from inference.model.storage import load_forecaster

    blob = ForecastModel.objects.values_list("blob", flat=True).get(version=version, sha256=sha)
    with tempfile.TemporaryDirectory(prefix="argus-model-") as directory:
        unpack(blob, directory, sha)
        forecaster = load_forecaster(directory, device=settings.ARGUS_DEVICE or None)
    forecaster.version = version
    return forecaster


def report(team_id, choice: Choice):
    """Keeps (or clears) the team's fallback note for GET /status."""
    key = keys.team(team_id).model_fallback
    used = choice.forecaster.version
    try:
        if choice.error is None and (choice.wanted is None or choice.wanted == used):
            get_redis().delete(key)
        else:
            note = {"wanted": choice.wanted, "used": used, "error": choice.error or "not loaded",
                    "at": time.time()}
            get_redis().set(key, json.dumps(note), ex=FALLBACK_TTL)
    except REDIS_DOWN_ERRORS:
        pass  # the run itself reports Redis being down


def fallback_note(team_id):
    raw = get_redis().get(keys.team(team_id).model_fallback)
    return json.loads(raw) if raw else None
