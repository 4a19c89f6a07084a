"""The OpenAPI schema and its docs page."""
import pytest

from feeds.schema import REQUIRED_FIELDS


@pytest.mark.django_db
def test_the_schema_documents_every_endpoint_and_the_key_scheme(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"] == {
        "type": "apiKey", "in": "header", "name": "X-API-Key",
        "description": schema["components"]["securitySchemes"]["ApiKeyAuth"]["description"],
    }
    feed = schema["paths"]["/feed/data"]["post"]
    assert set(feed["responses"]) >= {"200", "400", "401", "413", "422", "429", "503"}
    record = schema["components"]["schemas"]["MetricRecord"]
    assert set(record["required"]) == set(REQUIRED_FIELDS)
    assert record["properties"]["mem_used_pct"]["maximum"] == 100
    assert {"/status", "/health", "/predictions/current", "/alerts/active", "/feed/servers/{server_name}"} <= set(schema["paths"])


@pytest.mark.django_db
def test_the_docs_page_loads_its_scripts_from_this_server(client):
    page = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/redoc" in page
    assert "cdn" not in page.lower()
