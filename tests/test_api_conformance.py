"""The API against its own OpenAPI schema, in process: schemathesis generates requests from the
schema (valid and invalid) and checks every response against it (status codes, bodies,
headers, no 5xx). Authenticated with a real key of a team whose rate limits are lifted, so
that the checks see real answers rather than 401s or 429s."""
import pytest
import schemathesis
from schemathesis.checks import positive_data_acceptance
from hypothesis import HealthCheck, settings

from argus_project.wsgi import application
from tests.factories import Tenant

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture(autouse=True)
def _keep_the_test_transactions_connection():
    """Requests here reach Django's WSGI handler directly, which closes the database connection
    after each request (close_old_connections); inside the test's transaction on PostgreSQL that
    closes the transaction itself. Django's own test client unhooks it the same way."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tenant(db):
    tenant = Tenant("conformance")
    tenant.team.rate_feed = tenant.team.rate_read = tenant.team.rate_admin = "1000000/min"
    tenant.team.save()
    return tenant


def test_the_key_used_below_is_accepted(client, tenant):
    assert client.get("/alerts/active", **tenant.headers).status_code in (200, 404)


@pytest.mark.slow  # hundreds of generated requests
@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_endpoint_conforms_to_the_schema(case, tenant):
    # Every check but positive_data_acceptance: a timestamp's bounds (a real calendar date, from
    # 2000, at most an hour ahead of the server clock) are beyond what a JSON Schema can say,
    # so schema-valid timestamps like "9999-99-99T00:00" are rightly refused with 422.
    case.call_and_validate(headers={"X-API-Key": tenant.key}, excluded_checks=[positive_data_acceptance])
