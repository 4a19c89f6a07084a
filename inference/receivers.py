"""inference/ listens to feeds/ (which never imports inference): accepted batches ask for a
run; /status gets the model and prediction state."""
import logging
import time

from django.conf import settings
from django.dispatch import receiver
from kombu.exceptions import OperationalError

from feeds.redis_client import REDIS_DOWN_ERRORS
from feeds.signals import batch_accepted, status_requested
from feeds.windows import team_stats

from . import cache
from .dispatch import request_run
from .runner import iso
from .worker import live_workers

log = logging.getLogger(__name__)


@receiver(batch_accepted)
def ask_for_a_run(sender, team_id, tick, warmup_complete, **kwargs):
    """The batch is stored whatever happens here; if the broker is unreachable the next batch
    asks again, and /status reports the predictions as stale meanwhile."""
    if not warmup_complete:
        return
    try:
        request_run(team_id)
    except (OperationalError, *REDIS_DOWN_ERRORS):
        log.warning("team %s tick %s: could not queue a prediction run (broker unreachable)", team_id, tick)


@receiver(status_requested)
def prediction_status(sender, team_id, stats=None, **kwargs):
    try:
        workers = live_workers()
    except REDIS_DOWN_ERRORS:
        return {"model_loaded": False, "workers": 0}
    status = {"model_loaded": bool(workers), "workers": len(workers),
              "model_version": workers[0]["model"] if workers else None}
    if team_id is not None:
        meta = cache.prediction_meta(team_id)
        status["last_prediction"] = iso(meta["generated_at"]) if meta else None
        status["predicted_tick"] = meta["tick"] if meta else None
        status["prediction_runs"] = meta["runs"] if meta else 0
        status["predictions_stale"] = predictions_stale(stats or team_stats(team_id), meta)
    return status


def predictions_stale(stats, meta) -> bool:
    """True when the team's newest batch has waited more than ARGUS_PREDICTIONS_STALE_SECONDS
    without a prediction covering it (no worker running, or workers far behind)."""
    if meta is not None and meta["tick"] >= stats.tick:
        return False
    return stats.updated_ms > 0 and time.time() - stats.updated_ms / 1000 > settings.ARGUS_PREDICTIONS_STALE_SECONDS
