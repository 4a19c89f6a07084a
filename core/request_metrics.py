"""Counts every request and its latency by endpoint and status (core.metrics).

The endpoint is the name of the URL pattern that matched (`feed-data`, `admin:index`), never the
raw path: a scanner trying random paths adds one series (`unmatched`), not one per path."""
import time

from .metrics import REQUEST_SECONDS, REQUESTS


class RequestMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        endpoint = (match.view_name or "unnamed") if match else "unmatched"
        REQUEST_SECONDS.labels(endpoint=endpoint).observe(time.perf_counter() - started)
        REQUESTS.labels(endpoint=endpoint, status=str(response.status_code)).inc()
        return response
