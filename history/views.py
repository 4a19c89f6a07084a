"""The history read endpoints: thin views over history.params and history.reading."""
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import BAD_PARAMETER, COMMON_ERRORS, Detail
from core.params import reject_unknown
from core.throttles import KeyRateThrottle

from . import openapi
from .params import parse_metrics, parse_servers, parse_span
from .reading import export_csv, server_document, server_known

def unknown_server(name):
    return Response({"detail": f"No history for server '{name}' in this team"}, status=404)


class ServerHistoryView(APIView):
    rate_scope = "read"
    throttle_classes = [KeyRateThrottle]

    @extend_schema(
        summary="A server's stored points over a range (at most 31 days), one entry per 5-minute slot",
        description="Every point Argus accepted for the server within the range, null where a slot "
        "holds none (or its points are still on their way to the archiver). Values are stored as float32, "
        "like the rolling windows, and written as the shortest decimal that reads back as the stored value.",
        parameters=[openapi.START, openapi.END, openapi.METRICS_PARAM],
        responses={200: openapi.ServerHistory, 400: BAD_PARAMETER, 404: Detail, **COMMON_ERRORS},
    )
    def get(self, request, server_name):
        reject_unknown(request.query_params, ("start", "end", "metrics"))
        span = parse_span(request.query_params)
        metrics = parse_metrics(request.query_params.get("metrics"))
        team_id = request.auth.team_id
        if not server_known(team_id, server_name):
            return unknown_server(server_name)
        return Response(server_document(team_id, server_name, span, metrics))


class CSVRenderer(BaseRenderer):
    """Lets a client ask for text/csv; the export streams its own body, and an error raised
    before it starts is still written as JSON."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data)


class ExportView(APIView):
    rate_scope = "read"
    throttle_classes = [KeyRateThrottle]
    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        summary="Every stored point of a range (at most 31 days) as CSV, streamed",
        description="The feed contract's 17 fields, in its order, as the header; then one row per "
        "stored point, by server (in code point order), then time. Values are written so that the "
        "rows, sent back to POST /feed/data as records (numbers as JSON numbers), store the same "
        "points: an export of what that stored is byte-identical.",
        parameters=[openapi.START, openapi.END, openapi.SERVERS],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV, UTF-8"),
                   400: BAD_PARAMETER, 404: Detail, **COMMON_ERRORS},
    )
    def get(self, request):
        reject_unknown(request.query_params, ("start", "end", "servers"))
        span = parse_span(request.query_params)
        servers = parse_servers(request.query_params.get("servers"))
        team_id = request.auth.team_id
        for name in servers or ():
            if not server_known(team_id, name):
                return unknown_server(name)
        filename = f"argus-history-{request.auth.team.slug}-{span.start:%Y%m%dT%H%M}-{span.end:%Y%m%dT%H%M}.csv"
        return StreamingHttpResponse(export_csv(team_id, span, servers), content_type="text/csv; charset=utf-8",
                                     headers={"Content-Disposition": f'attachment; filename="{filename}"'})
