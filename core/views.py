"""Service endpoints: /health (liveness) and /status (service state, and the team's with a key)."""
from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from . import openapi, status
from .errors import REDIS_RETRY_AFTER
from .redis import redis_reachable
from .throttles import KeyRateThrottle


class StatusView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [KeyRateThrottle]
    rate_scope = "read"

    @extend_schema(
        summary="Service status, and the team's feed and prediction state when called with a key",
        description="Without a key: version, Redis reachability, whether a worker has a model "
        "loaded. With a key, also the key's team: window size, ticks, servers, warm-up and the "
        "last prediction. Fields marked optional appear only with a key.",
        auth=[{"ApiKeyAuth": []}, {}],
        responses={200: status.Status, **openapi.COMMON_ERRORS},
    )
    def get(self, request):
        body = {"status": "ok", "version": settings.VERSION, "redis_reachable": redis_reachable()}
        context = status.StatusRequest(request.auth.team if request.auth else None)
        for part in status.parts():
            body.update(part.fields(context))
        return Response(body)


class HealthView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Liveness: 200 when the process and Redis answer, 503 otherwise",
        auth=[{}],
        responses={200: openapi.Health, 503: openapi.Health},
    )
    def get(self, request):
        if redis_reachable():
            return Response({"status": "ok", "redis_reachable": True})
        return Response({"status": "unavailable", "redis_reachable": False}, status=503,
                        headers={"Retry-After": str(REDIS_RETRY_AFTER)})
