"""inference/'s part of GET /status: the workers and their model; with a key, the team's last
prediction and whether it is stale."""
import time

import redis
from django.conf import settings
from rest_framework import serializers

from core.redis import redis_unavailable
from core.status import StatusPart, StatusRequest
from core.times import iso
from feeds.windows import team_stats

from . import accuracy, cache
from .worker import live_workers


class PredictionStatus(serializers.Serializer):
    model_loaded = serializers.BooleanField(help_text="A worker with a loaded model sent a heartbeat within the last minute.")
    workers = serializers.IntegerField(help_text="Worker processes alive.")
    model_version = serializers.CharField(required=False, allow_null=True,
                                          help_text="The model a live worker runs (absent when Redis is unreachable).")
    last_prediction = serializers.DateTimeField(required=False, allow_null=True,
                                                help_text="With a key: when the team's stored predictions were computed.")
    predicted_tick = serializers.IntegerField(required=False, allow_null=True,
                                              help_text="With a key: the team tick the stored predictions cover.")
    prediction_runs = serializers.IntegerField(required=False, help_text="With a key: runs completed for the team.")
    predictions_stale = serializers.BooleanField(
        required=False, help_text="With a key: the team's newest batch has waited more than "
        "ARGUS_PREDICTIONS_STALE_SECONDS without a prediction covering it.")
    forecast_accuracy = serializers.DictField(
        required=False, help_text="With a key: per forecast metric over the last 7 days of data, every "
        "horizon together: points, mae, seasonal_naive_mae, relative_mae, coverage_p10_p90 "
        "(GET /accuracy has the detail per horizon). Empty until a forecast is scored.")


def prediction_status(request: StatusRequest) -> dict:
    try:
        workers = live_workers()
    except redis.RedisError as exc:
        if not redis_unavailable(exc):
            raise
        return {"model_loaded": False, "workers": 0}
    status = {"model_loaded": bool(workers), "workers": len(workers),
              "model_version": workers[0]["model"] if workers else None}
    if request.team is not None:
        meta = cache.prediction_meta(request.team.id)
        stats = request.once("team_stats", lambda: team_stats(request.team.id))
        status["last_prediction"] = iso(meta["generated_at"]) if meta else None
        status["predicted_tick"] = meta["tick"] if meta else None
        status["prediction_runs"] = meta["runs"] if meta else 0
        status["predictions_stale"] = predictions_stale(stats, meta)
        status["forecast_accuracy"] = accuracy.status_summary(request.team.id)
    return status


def predictions_stale(stats, meta, now=None) -> bool:
    """True when the team has batches its stored predictions do not cover and those predictions
    were computed more than ARGUS_PREDICTIONS_STALE_SECONDS ago (or, with none ever computed,
    the newest batch has waited that long): no worker running, runs failing, workers far behind.

    Judged by the predictions' age, not the newest batch's: a feeder keeps sending while runs
    fail, so the newest batch is always young and would hide a freeze."""
    now = time.time() if now is None else now
    limit = settings.ARGUS_PREDICTIONS_STALE_SECONDS
    if meta is not None:
        return meta["tick"] < stats.tick and now - meta["generated_at"] > limit
    return stats.updated_ms > 0 and now - stats.updated_ms / 1000 > limit


PART = StatusPart(PredictionStatus, prediction_status)
