"""GET /alerts/history: a thin view over timeline.params and timeline.reading."""
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import BAD_PARAMETER, COMMON_ERRORS
from core.throttles import KeyRateThrottle

from . import openapi
from .params import parse_history_query
from .reading import history_page


class AlertHistoryView(APIView):
    rate_scope = "read"
    throttle_classes = [KeyRateThrottle]

    @extend_schema(
        summary="The team's alert transitions (opened, escalated, de-escalated, resolved), newest first",
        description="Every change of an alert's level, per server and problem metric, as prediction runs "
        "made it. A level drops only after two consecutive lower runs (docs/risk_scoring.md). Kept "
        "ARGUS_HISTORY_DAYS; a forgotten server's events are deleted with it.",
        parameters=[openapi.SINCE, openapi.UNTIL, openapi.SERVER, openapi.LIMIT, openapi.CURSOR],
        responses={200: openapi.AlertHistory, 400: BAD_PARAMETER, **COMMON_ERRORS},
    )
    def get(self, request):
        query = parse_history_query(request.query_params)
        return Response(history_page(request.auth.team_id, query))
