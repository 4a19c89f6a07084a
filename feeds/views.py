"""Thin views: authenticate, meter, hand the work to feeds.records / feeds.actions, answer."""
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import UnreadablePostError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import COMMON_ERRORS, Detail
from core.throttles import KeyRateThrottle

from . import openapi
from .actions import accept_batch, forget_server
from .metrics import count_feed_outcome
from .records import BatchTooLarge, MalformedBody, ValidationFailed, parse_body, validate_batch
from .windows import LimitExceeded


def error(status, message, errors=None):
    body = {"status": "error", "message": message}
    if errors is not None:
        body["errors"] = errors
    return Response(body, status=status)


def limit_exceeded(exc: LimitExceeded):
    """422 for the servers a team may hold (waiting will not help), 429 with Retry-After for
    the servers it may add per hour."""
    if exc.retry_after:  # the body of every 429 (rate limits too): {"detail": ...}
        return Response({"detail": str(exc)}, status=429, headers={"Retry-After": str(exc.retry_after)})
    return error(422, str(exc))


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
            200: OpenApiResponse(openapi.FeedResult, description="accepted, warming_up or ignored (empty batch)"),
            400: OpenApiResponse(openapi.FeedError, description="Malformed JSON"),
            408: OpenApiResponse(openapi.FeedError, description="Body not received within ARGUS_BODY_TIMEOUT"),
            413: OpenApiResponse(openapi.FeedError, description="Too many records or too large a body"),
            422: OpenApiResponse(openapi.FeedError, description="Validation failed, or the batch would "
                                 "take the team past ARGUS_MAX_SERVERS_PER_TEAM (nothing stored)"),
            **COMMON_ERRORS,
        },
    )
    @count_feed_outcome
    def post(self, request):
        limit = settings.ARGUS_MAX_BODY_BYTES
        too_big = f"Request body exceeds {limit} bytes (ARGUS_MAX_BODY_BYTES). Split the batch."
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
            return error(413, too_big)
        try:
            records, extra_fields = parse_body(request.body)
            request.feed_records = len(records)  # for /metrics (feeds.metrics), when the batch is refused
            batch = validate_batch(records, extra_fields, settings.ARGUS_MAX_RECORDS,
                                   max_future=timedelta(seconds=settings.ARGUS_MAX_FUTURE_SECONDS))
        except RequestDataTooBig:
            return error(413, too_big)
        except UnreadablePostError:  # the client hung up or missed the server's body deadline
            return error(408, "Request body not received in time; nothing was stored.")
        except MalformedBody as exc:
            return error(400, str(exc))
        except BatchTooLarge as exc:
            return error(413, str(exc))
        except ValidationFailed as exc:
            return error(422, "Validation failed", exc.errors)
        if not len(batch):
            return Response({"status": "ignored", "reason": "empty batch"})

        try:
            stats = accept_batch(request.auth.team_id, batch, limits=request.auth.team.server_limits)
        except LimitExceeded as exc:
            return limit_exceeded(exc)
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
        responses={200: openapi.ServerForgotten, 404: Detail, **COMMON_ERRORS},
    )
    def delete(self, request, server_name):
        held = forget_server(request.auth.team_id, server_name)
        if held is None:
            return Response({"detail": f"No server '{server_name}' in this team's windows or history"}, status=404)
        return Response({"status": "forgotten", "server_name": server_name, "points_removed": held})
