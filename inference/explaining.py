"""GET /predictions/servers/<name>/explain: the model's explanation of one server's current
window, computed on demand in the web process and cached per tick.

Why in the web process, against "requests never run the model": an explanation is one server's
forward pass (tens of milliseconds), asked for by a person looking at one server, not per tick
for the fleet; sending it through the workers' queue would put it behind a whole team's run.
The model is loaded once per web process, on the first explanation (or when a server page
warms it up), with ARGUS_TORCH_THREADS threads, and one forward runs at a time per process so
that concurrent requests cannot oversubscribe the cores. Each result is cached in Redis for the
team's tick and the model's version, so every viewer and every web process shares it until the
next batch arrives."""
import json
import logging
import threading
import time

import numpy as np
from django.conf import settings

from core import keys
from core.redis import get_redis
from core.times import iso
from feeds.schema import SLOT_SECONDS, profile_of
from feeds.windows import RECORD, Snapshot

from .runner import align

log = logging.getLogger(__name__)

CACHE_SECONDS = 3600  # a tick's explanation is superseded by the next batch; keep it for late viewers

_models = {}  # model directory -> LoadedModels: one in production (tests switch directories)
_model_lock = threading.Lock()
_forward_lock = threading.Lock()


class UnknownServer(Exception):
    pass


def explainer_model(team_id=None):
    """The model the team's runs use (its active one, model_source), in this web process:
    the global default (the workers' ARGUS_MODEL_DIR) is loaded on first use, a team's own on
    its first explanation. Without a team: the global default."""
    path = str(settings.ARGUS_MODEL_DIR)
    if path not in _models:
        with _model_lock:
            if path not in _models:
                import torch

                from .model.storage import load_forecaster
                from .model_source import source_for

                torch.set_num_threads(settings.ARGUS_TORCH_THREADS)
                started = time.perf_counter()
                default = load_forecaster(path, device="cpu")
                _models[path] = source_for(default)
                log.info("web process loaded model %s for explanations in %.1fs", default.version,
                         time.perf_counter() - started)
    models = _models[path]
    if team_id is None:
        return models.default
    with _model_lock:  # the cache is not shared across threads otherwise
        return models.for_team(team_id).forecaster


def warm_up_in_background():
    """Loads the model in a thread (a server page calls this, so that its explanation, fetched
    a moment later, does not wait for the load)."""
    if str(settings.ARGUS_MODEL_DIR) not in _models:
        threading.Thread(target=_quietly(explainer_model), daemon=True).start()


def _quietly(fn):
    def run():
        try:
            fn()
        except Exception:  # the request that needs it will report the error
            log.exception("loading the model for explanations failed")
    return run


def explanation(team_id, server_name: str) -> dict:
    """The explanation document of the server's current window (cached per tick and model).
    Raises UnknownServer, or model.explain.CannotExplain (too little history)."""
    from .model.explain import explain

    team = keys.team(team_id)
    pipe = get_redis().pipeline(transaction=True)
    pipe.hget(team.meta, "tick")
    pipe.lrange(team.window(server_name), 0, -1)
    pipe.get(team.explanation(server_name))
    tick, records, cached = pipe.execute()
    if not records:
        raise UnknownServer(server_name)
    tick = int(tick or 0)
    forecaster = explainer_model(team_id)
    if cached is not None:
        stored = json.loads(cached)
        if stored["tick"] == tick and stored["model"] == forecaster.version:
            return stored
    window = {server_name: np.frombuffer(b"".join(records), dtype=RECORD)}
    inputs = align(Snapshot(tick, 0, window, {server_name: 0}),
                   slots=max(settings.ARGUS_WINDOW_SLOTS, forecaster.history_slots),
                   max_fill_slots=settings.ARGUS_MAX_FILL_SECONDS // SLOT_SECONDS,
                   stale_slots=settings.ARGUS_STALE_SECONDS // SLOT_SECONDS)
    end_time = int(inputs.end_slots[0]) * SLOT_SECONDS
    with _forward_lock:
        result = explain(forecaster, inputs.values[0], end_time, profile_of(server_name))
    document = {
        "server_name": server_name,
        "tick": tick,
        "model": forecaster.version,
        "window_end": iso(end_time),
        "variables": {"encoder": result.encoder, "decoder": result.decoder, "static": result.static},
        "attention": [{"timestamp": iso(t), "weight": w} for t, w in result.attention],
    }
    get_redis().set(team.explanation(server_name), json.dumps(document, separators=(",", ":")),
                    ex=CACHE_SECONDS)
    return document


def explanation_result(team_id, server_name: str):
    """(body, HTTP status) for the API and the dashboard alike: the explanation, a 404 for a
    server the team does not hold (another team's included), a 409 when the model cannot explain."""
    from .model.explain import CannotExplain

    try:
        return explanation(team_id, server_name), 200
    except UnknownServer:
        return {"detail": f"No server '{server_name}' in this team's windows"}, 404
    except CannotExplain as exc:
        return {"detail": f"Cannot explain '{server_name}': {exc}", "error": "insufficient_history"}, 409
