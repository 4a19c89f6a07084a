"""Feeding a team and running the archiver, as the history tests need it."""
import json

from history.archiver import archive_all


def feed(client, tenant, records):
    response = client.post("/feed/data", json.dumps({"records": records}), content_type="application/json",
                           **tenant.headers)
    assert response.status_code == 200, response.content
    return response.json()


def feed_and_archive(client, tenant, records):
    feed(client, tenant, records)
    return archive_all()
