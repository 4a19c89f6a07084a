"""Instant queries against the Prometheus HTTP API (GET /api/v1/query)."""
import math

import requests


class PrometheusError(Exception):
    """Prometheus could not be asked, or refused the query (the message says which)."""


class Prometheus:
    def __init__(self, base_url: str, timeout: float = 30.0, session=None):
        self.endpoint = base_url.rstrip("/") + "/api/v1/query"
        self.timeout = timeout
        self.session = session or requests.Session()

    def vector(self, query: str, at: float) -> dict:
        """{instance: value} of an instant vector query evaluated at `at` (epoch seconds). A
        series without an `instance` label, or with a value that is not a finite number (0/0 of
        a machine without swap, say), is left out."""
        try:
            response = self.session.get(self.endpoint, params={"query": query, "time": f"{at:.3f}"},
                                        timeout=self.timeout)
        except requests.RequestException as exc:
            raise PrometheusError(f"{self.endpoint} unreachable: {exc.__class__.__name__}") from exc
        try:
            body = response.json()
        except ValueError:
            raise PrometheusError(f"{self.endpoint} answered HTTP {response.status_code}, not JSON") from None
        if body.get("status") != "success":
            raise PrometheusError(f"query {query!r}: {body.get('errorType', 'error')}: {body.get('error', '')}"[:500])
        data = body["data"]
        if data.get("resultType") != "vector":
            raise PrometheusError(f"query {query!r} gave a {data.get('resultType')}, not an instant vector")
        values = {}
        for series in data["result"]:
            instance = series["metric"].get("instance")
            number = float(series["value"][1])
            if instance is not None and math.isfinite(number):
                values[instance] = number
        return values
