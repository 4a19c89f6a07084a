"""GET /metrics: the Prometheus exposition (core.metrics), for the operator's Prometheus only.

Off unless ARGUS_METRICS_TOKEN is set (404, as for any unknown path). With it, only requests
carrying `Authorization: Bearer <token>` get the figures; a missing or wrong token is a 401
(one answer for both). The figures are operator-level: team slugs, counts, ages and model
versions, never an API key, a server name or a metric value of a team."""
import hashlib
import hmac

from django.conf import settings
from django.http import HttpResponse
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4  # what generate_latest writes

from .errors import json_404
from .metrics import exposition


def _token_matches(sent: str, expected: str) -> bool:
    # Compared as digests: constant time, and the token's length does not leak either.
    digest = lambda text: hashlib.sha256(text.encode("utf-8", "surrogateescape")).digest()  # noqa: E731
    return hmac.compare_digest(digest(sent), digest(expected))


def metrics_view(request):
    expected = settings.ARGUS_METRICS_TOKEN
    if not expected:
        return json_404(request)
    if request.method not in ("GET", "HEAD"):
        return HttpResponse('{"detail": "Method not allowed"}', status=405, content_type="application/json",
                            headers={"Allow": "GET, HEAD"})
    scheme, _, sent = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer" or not _token_matches(sent.strip(), expected):
        response = HttpResponse('{"detail": "Missing or wrong bearer token"}', status=401,
                                content_type="application/json")
        response["WWW-Authenticate"] = 'Bearer realm="argus-metrics"'
        return response
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_PLAIN_0_0_4)
