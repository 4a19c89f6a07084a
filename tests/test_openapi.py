"""The OpenAPI schema and its docs page."""
import json
import time

import pytest

from core import keys
from feeds.schema import REQUIRED_FIELDS
from inference import cache
from tests.factories import make_batch


def get_schema(client):
    return client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()


@pytest.mark.django_db
def test_the_schema_documents_every_endpoint_and_the_key_scheme(client):
    schema = get_schema(client)
    scheme = schema["components"]["securitySchemes"]["ApiKeyAuth"]
    assert {k: scheme[k] for k in ("type", "in", "name")} == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    assert "create_api_key" in scheme["description"]  # tells a reader where keys come from
    feed = schema["paths"]["/feed/data"]["post"]
    assert set(feed["responses"]) >= {"200", "400", "401", "413", "422", "429", "503"}
    record = schema["components"]["schemas"]["MetricRecord"]
    assert set(record["required"]) == set(REQUIRED_FIELDS)
    assert record["properties"]["mem_used_pct"]["maximum"] == 100
    assert {"/status", "/health", "/predictions/current", "/alerts/active", "/feed/servers/{server_name}",
            "/history/servers/{server_name}", "/history/export.csv"} <= set(schema["paths"])
    history = schema["paths"]["/history/servers/{server_name}"]["get"]
    assert {p["name"] for p in history["parameters"]} >= {"server_name", "start", "end", "metrics"}
    assert set(history["responses"]) >= {"200", "400", "401", "404", "429", "503"}
    assert "text/csv" in schema["paths"]["/history/export.csv"]["get"]["responses"]["200"]["content"]


@pytest.mark.django_db
def test_the_docs_page_loads_its_scripts_from_this_server(client):
    page = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/redoc" in page
    assert "cdn" not in page.lower()


def test_the_schema_documents_every_field_status_returns(client, team_a, redis_client):
    """Each app's /status part documents its own fields; none is returned undocumented."""
    client.post("/feed/data", {"records": make_batch(3)}, format="json", **team_a.headers)
    redis_client.zadd(keys.workers(), {"w1": time.time()})  # a live worker, as its heartbeat says
    redis_client.hset(keys.workers_info(), "w1", json.dumps({"model": "tft-x", "device": "cpu"}))
    cache.store_predictions(team_a.team.id, {"tick": 1, "generated_at": time.time(), "model": {"version": "tft-x"}},
                            {"count": 0, "alerts": []})
    with_key = client.get("/status", **team_a.headers).json()
    without_key = client.get("/status").json()
    documented = get_schema(client)["components"]["schemas"]["Status"]["properties"]
    assert set(with_key) == set(documented)
    assert set(without_key) < set(documented)
    assert with_key["model_version"] == "tft-x" and with_key["predicted_tick"] == 1
