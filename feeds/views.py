"""Thin views: authenticate, meter, hand the work to feeds.records / feeds.windows, answer."""
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from . import openapi
from .errors import REDIS_RETRY_AFTER
from .records import BatchTooLarge, MalformedBody, ValidationFailed, parse_body, validate_batch
from .redis_client import redis_reachable
from .signals import batch_accepted, status_requested
from .throttles import KeyRateThrottle
from .windows import append_batch, forget_server, team_stats


def error(status, message, errors=None):
    body = {"status": "error", "message": message}
    if errors is not None:
        body["errors"] = errors
    return Response(body, status=status)


class FeedDataView(APIView):
    rate_scope = "feed"
    throttle_classes = [KeyRateThrottle]

    @extend_schema(
        summary="Send a batch of server metrics",
        description="Validates the whole batch and stores it in the team's rolling windows, or "
        "rejects it whole (nothing stored) with one error per bad field. Re-sending a point "
        "replaces the stored one (same server and 5-minute slot), so retries never double-count.",
        request=openapi.FeedRequest,
        responses={
            200: OpenApiResponse(openapi.FeedAccepted, description="accepted, warming_up or ignored (empty batch)"),
            400: OpenApiResponse(openapi.FeedError, description="Malformed JSON"),
            413: OpenApiResponse(openapi.FeedError, description="Too many records or too large a body"),
            422: OpenApiResponse(openapi.FeedError, description="Validation failed"),
            **openapi.COMMON_ERRORS,
        },
    )
    def post(self, request):
        limit = settings.ARGUS_MAX_BODY_BYTES
        too_big = f"Request body exceeds {limit} bytes (ARGUS_MAX_BODY_BYTES). Split the batch."
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
            return error(413, too_big)
        try:
            records, extra_fields = parse_body(request.body)
            batch = validate_batch(records, extra_fields, settings.ARGUS_MAX_RECORDS,
                                   max_future=timedelta(seconds=settings.ARGUS_MAX_FUTURE_SECONDS))
        except RequestDataTooBig:
            return error(413, too_big)
        except MalformedBody as exc:
            return error(400, str(exc))
        except BatchTooLarge as exc:
            return error(413, str(exc))
        except ValidationFailed as exc:
            return error(422, "Validation failed", exc.errors)
        if not len(batch):
            return Response({"status": "ignored", "reason": "empty batch"})

        team = request.auth.team
        stats = append_batch(team.id, batch)
        batch_accepted.send(sender=self.__class__, team_id=team.id, tick=stats.tick,
                            warmup_complete=stats.warmup_complete)
        body = {
            "status": "accepted" if stats.warmup_complete else "warming_up",
            "records_received": len(batch),
            "tick": stats.tick,
            "rolling_window_size": stats.points,
            "warmup_complete": stats.warmup_complete,
        }
        if not stats.warmup_complete:
            need = settings.ARGUS_WARMUP_RECORDS
            body["progress"] = f"{stats.points * 100 // need}% (need {need} records minimum)"
        if batch.warnings:
            body["warnings"] = batch.warnings
        return Response(body)


class ServerView(APIView):
    rate_scope = "admin"
    throttle_classes = [KeyRateThrottle]

    @extend_schema(
        summary="Forget a server (e.g. decommissioned) instead of waiting for ARGUS_SERVER_TTL",
        responses={200: openapi.ServerForgotten, 404: openapi.Detail, **openapi.COMMON_ERRORS},
    )
    def delete(self, request, server_name):
        held = forget_server(request.auth.team_id, server_name)
        if held is None:
            return Response({"detail": f"No server '{server_name}' in this team's windows"}, status=404)
        return Response({"status": "forgotten", "server_name": server_name, "points_removed": held})


class StatusView(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [KeyRateThrottle]
    rate_scope = "read"

    @extend_schema(
        summary="Service status, and the team's feed state when called with a key",
        description="Without a key: version, Redis reachability and whether a model is loaded. "
        "With a key, also the key's team: window size, ticks, servers and the last prediction.",
        auth=[{"ApiKeyAuth": []}, {}],
        responses={200: openapi.Status, **openapi.COMMON_ERRORS},
    )
    def get(self, request):
        team = request.auth.team if request.auth else None
        body = {"status": "ok", "version": settings.VERSION, "redis_reachable": redis_reachable(),
                "model_loaded": False}
        stats = None
        if team is not None:
            stats = team_stats(team.id)
            body.update({
                "team": team.slug,
                "rolling_window_size": stats.points,
                "tick_count": stats.tick,
                "servers_tracked": stats.servers,
                "warmup_complete": stats.warmup_complete,
                "last_prediction": None,
            })
        for _, extra in status_requested.send(sender=self.__class__, team_id=team and team.id, stats=stats):
            body.update(extra or {})
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
