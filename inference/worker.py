"""What each Celery worker process holds: its torch settings, its model, its heartbeat.

The model is loaded in each pool process after the fork (worker_process_init), never in the
parent: a child forked from a parent that ran torch with several threads deadlocks in libgomp.
Each process announces itself in Redis every HEARTBEAT_SECONDS so that /status can say whether
a worker with a model is alive."""
import json
import logging
import os
import socket
import threading
import time

from celery.signals import worker_process_init, worker_process_shutdown
from django.conf import settings

from core import keys
from core.redis import REDIS_DOWN_ERRORS, get_redis

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 20
ALIVE_SECONDS = 3 * HEARTBEAT_SECONDS

_forecaster = None
_models = None
_worker_id = f"{socket.gethostname()}:{os.getpid()}"


def get_forecaster():
    """This process's model, loaded on first use."""
    global _forecaster, _worker_id
    if _forecaster is None:
        import torch

        from .model.storage import load_forecaster

        torch.set_num_threads(settings.ARGUS_TORCH_THREADS)
        started = time.perf_counter()
        _forecaster = load_forecaster(settings.ARGUS_MODEL_DIR, device=settings.ARGUS_DEVICE or None)
        _worker_id = f"{socket.gethostname()}:{os.getpid()}"
        log.info("worker %s loaded model %s on %s in %.1fs", _worker_id, _forecaster.version,
                 _forecaster.device, time.perf_counter() - started)
        heartbeat()
    return _forecaster


def loaded_models():
    """This process's models per team (model_source: the registry's), the directory model as
    the global default."""
    global _models
    if _models is None:
        from .model_source import source_for

        _models = source_for(get_forecaster())
    return _models


def worker_id() -> str:
    """This process's name in the heartbeats ("host:pid")."""
    return _worker_id


def serves_predictions() -> bool:
    """False in a trainer process (bin/worker with WORKER_QUEUES=training): it needs no
    serving model, and its pool process must not hold one beside the model it trains."""
    return "inference" in os.environ.get("WORKER_QUEUES", "inference").split(",")


def heartbeat():
    if _forecaster is None:
        return
    try:
        pipe = get_redis().pipeline()
        pipe.zadd(keys.workers(), {_worker_id: time.time()})
        pipe.hset(keys.workers_info(), _worker_id, json.dumps({"model": _forecaster.version, "device": _forecaster.device}))
        pipe.execute()
    except REDIS_DOWN_ERRORS:
        log.warning("heartbeat: Redis unreachable")


def live_workers() -> list:
    """[{"worker", "model", "device"}] of processes that sent a heartbeat recently."""
    redis = get_redis()
    redis.zremrangebyscore(keys.workers(), "-inf", time.time() - 10 * ALIVE_SECONDS)
    alive = [w.decode() for w in redis.zrangebyscore(keys.workers(), time.time() - ALIVE_SECONDS, "+inf")]
    info = redis.hmget(keys.workers_info(), alive) if alive else []
    return [{"worker": w, **json.loads(i or "{}")} for w, i in zip(alive, info)]


def _beat_forever():
    while True:
        time.sleep(HEARTBEAT_SECONDS)
        heartbeat()


@worker_process_init.connect
def _load_model_in_child(**kwargs):
    if not serves_predictions():
        return
    get_forecaster()
    threading.Thread(target=_beat_forever, name="argus-heartbeat", daemon=True).start()


@worker_process_shutdown.connect
def _say_goodbye(**kwargs):
    try:
        get_redis().zrem(keys.workers(), _worker_id)
        get_redis().hdel(keys.workers_info(), _worker_id)
    except REDIS_DOWN_ERRORS:
        pass
