"""Read endpoints: cache reads only, never the model."""
import time

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import COMMON_ERRORS, Detail
from core.params import reject_unknown
from core.throttles import KeyRateThrottle
from core.times import iso
from feeds.windows import team_stats

from . import accuracy, cache, explaining, openapi


def json_bytes(body: bytes):
    return HttpResponse(body, content_type="application/json")


class PredictionsCurrentView(APIView):
    rate_scope = "read"
    throttle_classes = [KeyRateThrottle]

    @extend_schema(
        summary="The team's latest forecasts, risk scores and alerts",
        description="The document the workers computed for the team's latest covered tick, with "
        "`age_seconds` since it was computed. Before the first prediction: "
        '`{"error": "insufficient_data", ...}` (HTTP 200).',
        responses={200: OpenApiResponse(openapi.PredictionsResult), **COMMON_ERRORS},
    )
    def get(self, request):
        team_id = request.auth.team_id
        document = cache.predictions_json(team_id)
        if document is not None:
            return json_bytes(document)
        points, need = team_stats(team_id).points, settings.ARGUS_WARMUP_RECORDS
        if points < need:
            message = f"Need at least {need} records, have {points}"
            return Response({"error": "insufficient_data", "message": message, "predictions": {}})
        return Response({"error": "pending", "message": "The first predictions are being computed",
                         "predictions": {}})


class AlertsActiveView(APIView):
    rate_scope = "read"
    throttle_classes = [KeyRateThrottle]

    @extend_schema(
        summary="Active alerts: one per server and problem, worst first",
        responses={200: openapi.AlertsDocument, **COMMON_ERRORS},
    )
    def get(self, request):
        document = cache.alerts_json(request.auth.team_id)
        if document is not None:
            return json_bytes(document)
        return Response({"timestamp": iso(time.time()), "count": 0, "alerts": []})


class AccuracyView(APIView):
    rate_scope = "read"
    throttle_classes = [KeyRateThrottle]

    @extend_schema(
        summary="How the served forecasts did, scored against the values that then arrived",
        description="Over the last 7 days of data (by the day of the forecast slot): per forecast metric and "
        "per horizon (1, 4 and 8 hours ahead), the P50's mean absolute error, the same for seasonal naive "
        "(the value a day before) on the same points, their ratio (below 1: the forecast beats seasonal "
        "naive), the share of actual values within P10-P90, and the points scored. A run keeps its "
        "forecasts every ARGUS_ACCURACY_ORIGIN_SLOTS slots; `metrics` is empty until one is scored.",
        responses={200: openapi.AccuracyDocument, **COMMON_ERRORS},
    )
    def get(self, request):
        reject_unknown(request.query_params, ())
        return Response(accuracy.team_accuracy(request.auth.team_id))


class ExplainView(APIView):
    rate_scope = "read"
    throttle_classes = [KeyRateThrottle]

    @extend_schema(
        summary="Why the model forecasts what it does for one server: its own interpretation",
        description="The TFT's variable selection weights (encoder, decoder and static inputs, each "
        "group summing to 1) and the first forecast step's attention over the encoder's past steps "
        "(summing to 1), from a forward pass over the server's current window (interpret_output). "
        "Computed on demand for this one server and cached for the team's tick. A server with too little "
        "history for the model is a 409 with the reason; another team's server, or an unknown one, a 404.",
        responses={200: openapi.Explanation, 404: Detail, 409: Detail, **COMMON_ERRORS},
    )
    def get(self, request, server_name):
        reject_unknown(request.query_params, ())
        body, status = explaining.explanation_result(request.auth.team_id, server_name)
        return Response(body, status=status)

