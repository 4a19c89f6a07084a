"""X-API-Key authentication, the same 401 for every kind of bad key, on every keyed endpoint."""
from datetime import timedelta

import pytest
from django.utils import timezone

from feeds.models import TeamAPIKey
from tests.factories import make_batch

KEYED = [("post", "/feed/data"), ("get", "/status")]
INVALID = {"detail": "Invalid or missing API key"}


def call(client, method, path, **headers):
    if method == "post":
        return client.post(path, {"records": make_batch(1)}, format="json", **headers)
    return client.get(path, **headers)


def test_a_feed_without_a_key_is_refused(client, team_a):
    response = call(client, "post", "/feed/data")
    assert response.status_code == 401
    assert response.json() == INVALID


@pytest.mark.parametrize("method, path", KEYED)
@pytest.mark.parametrize("raw_key", ["nonsense", "abcdefgh.0123456789", "", "x" * 5000])
def test_an_unknown_key_gets_the_same_401(client, team_a, method, path, raw_key):
    response = call(client, method, path, HTTP_X_API_KEY=raw_key)
    assert response.status_code == 401
    assert response.json() == INVALID


@pytest.mark.parametrize("method, path", KEYED)
def test_a_known_prefix_with_a_wrong_secret_gets_the_same_401(client, team_a, method, path):
    forged = team_a.api_key.prefix + ".not-the-secret"
    response = call(client, method, path, HTTP_X_API_KEY=forged)
    assert (response.status_code, response.json()) == (401, INVALID)


@pytest.mark.parametrize("method, path", KEYED)
def test_a_revoked_key_gets_the_same_401(client, team_a, method, path):
    assert call(client, method, path, **team_a.headers).status_code == 200
    team_a.api_key.revoked = True
    team_a.api_key.save()
    response = call(client, method, path, **team_a.headers)
    assert (response.status_code, response.json()) == (401, INVALID)


@pytest.mark.parametrize("method, path", KEYED)
def test_an_expired_key_gets_the_same_401(client, team_a, method, path):
    team_a.api_key.expiry_date = timezone.now() - timedelta(seconds=1)
    team_a.api_key.save()
    response = call(client, method, path, **team_a.headers)
    assert (response.status_code, response.json()) == (401, INVALID)


def test_a_key_that_expires_later_still_works(client, team_a):
    team_a.api_key.expiry_date = timezone.now() + timedelta(days=1)
    team_a.api_key.save()
    assert call(client, "post", "/feed/data", **team_a.headers).status_code == 200


def test_keys_are_stored_only_as_hashes(team_a):
    stored = TeamAPIKey.objects.get(pk=team_a.api_key.pk)
    secret = team_a.key.partition(".")[2]
    assert stored.prefix == team_a.key.partition(".")[0]
    assert secret not in stored.hashed_key and secret not in stored.id
    assert stored.hashed_key.startswith("sha512$$")


def test_a_key_acts_only_for_its_own_team(client, team_a, team_b):
    call(client, "post", "/feed/data", **team_b.headers)
    assert client.get("/status", **team_a.headers).json()["team"] == "team-a"
    assert client.get("/status", **team_a.headers).json()["rolling_window_size"] == 0
    assert client.get("/status", **team_b.headers).json()["rolling_window_size"] == 1


def test_keys_never_reach_the_logs(client, team_a, caplog):
    import logging

    with caplog.at_level(logging.DEBUG):
        call(client, "post", "/feed/data", **team_a.headers)
        call(client, "post", "/feed/data", HTTP_X_API_KEY=team_a.api_key.prefix + ".wrong")
    assert team_a.key.partition(".")[2] not in caplog.text
    assert ".wrong" not in caplog.text
