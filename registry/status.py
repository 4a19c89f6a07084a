"""registry/'s part of GET /status: with a key, the team's active model and whether its last run
had to fall back to another one (a model that failed to load)."""
import redis
from django.db import DatabaseError
from rest_framework import serializers

from core.redis import redis_unavailable
from core.status import StatusPart, StatusRequest

from .promotion import active_for
from .serving import fallback_note


class ModelFallback(serializers.Serializer):
    wanted = serializers.CharField(allow_null=True, help_text="The team's active model.")
    used = serializers.CharField(help_text="The model the last run used instead.")
    error = serializers.CharField(help_text="Why the active model could not be used.")
    at = serializers.FloatField(help_text="When (epoch seconds).")


class RegistryStatus(serializers.Serializer):
    active_model = serializers.CharField(required=False, allow_null=True,
                                         help_text="With a key: the version of the team's active model (GET /models).")
    model_fallback = ModelFallback(required=False, allow_null=True,
                                   help_text="With a key: set while the team's runs cannot use its active model.")


def registry_status(request: StatusRequest) -> dict:
    if request.team is None:
        return {}
    status = {}
    try:
        active = active_for(request.team)
        status["active_model"] = active.version if active else None
    except DatabaseError:
        status["active_model"] = None
    try:
        status["model_fallback"] = fallback_note(request.team.id)
    except redis.RedisError as exc:
        if not redis_unavailable(exc):
            raise
    return status


PART = StatusPart(RegistryStatus, registry_status)
