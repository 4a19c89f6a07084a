"""API keys in admin: each key's usage (counted in Redis by the request's rate-limit script, no
database write on the request path), the list's filters, and the revoke and rotate actions."""
import re
import time
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import key_usage, keys, throttles
from feeds.models import TeamAPIKey
from tests.factories import data_time, make_batch
from tests.test_admin import admin_client, shown_key, table_row  # noqa: F401  (fixture)

LIST = "/admin/feeds/teamapikey/"
HOUR_MS = 3600 * 1000


def feed(client, raw_key):
    return client.post("/feed/data", {"records": make_batch(3, data_time())}, format="json", HTTP_X_API_KEY=raw_key)


def key_row(page, prefix):
    """{column: text} of the key list's row for the key with `prefix`."""
    columns = ("checkbox", "prefix", "name", "team", "state", "created", "expires", "last used", "requests, last 24 h")
    return dict(zip(columns, table_row(page, prefix), strict=True))


def listed(admin_client, query=""):
    """The prefixes on the key list (with filters in `query`)."""
    page = admin_client.get(LIST + query).content.decode()
    return set(re.findall(r'/admin/feeds/teamapikey/[^/]+/change/[^"]*">(\w{8})</a>', page))


def action(admin_client, name, *api_keys):
    return admin_client.post(LIST, {"action": name, "_selected_action": [k.pk for k in api_keys]}, follow=True)


def test_requests_count_as_uses_of_their_key_and_write_no_row(client, admin_client, team_a, team_b):
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            assert feed(client, team_a.key).status_code == 200
        assert client.get("/status", **team_a.headers).status_code == 200
    writes = [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert writes == []
    page = admin_client.get(LIST).content.decode()
    used, unused = key_row(page, team_a.api_key.prefix), key_row(page, team_b.api_key.prefix)
    assert (used["last used"], used["requests, last 24 h"]) == ("just now", "4")
    assert (unused["last used"], unused["requests, last 24 h"]) == ("never", "0")


def test_a_request_refused_by_the_rate_limit_still_counts(client, admin_client, team_a, settings):
    settings.ARGUS_RATE_FEED = "1/min"
    assert [feed(client, team_a.key).status_code for _ in range(2)] == [200, 429]
    assert key_usage.read_usage([(team_a.team.id, team_a.api_key.prefix)])[
        (team_a.team.id, team_a.api_key.prefix)].requests_24h == 2


def test_requests_older_than_a_day_leave_the_count(team_a, redis_client):
    now_ms = int(time.time() * 1000)
    for ago_ms in (25 * HOUR_MS, 24 * HOUR_MS + 11 * 60 * 1000, 23 * HOUR_MS, 1000):
        throttles.take(team_a.team.id, "read", team_a.api_key.prefix, 100, 60, now_ms=now_ms - ago_ms)
    usage = key_usage.read_usage([(team_a.team.id, team_a.api_key.prefix)])[(team_a.team.id, team_a.api_key.prefix)]
    assert usage.requests_24h == 2
    assert usage.last_used_ms == now_ms - 1000


def test_a_keys_usage_in_redis_stays_bounded(team_a, redis_client):
    start = int(time.time() * 1000) - 3 * 24 * HOUR_MS
    for step in range(3 * 24 * 6):  # a request every 10 minutes for 3 days
        throttles.take(team_a.team.id, "read", team_a.api_key.prefix, 100, 60,
                       now_ms=start + step * key_usage.BUCKET_MS)
    usage_key = keys.team(team_a.team.id).usage(team_a.api_key.prefix)
    assert redis_client.hlen(usage_key) <= key_usage.BUCKETS + 1  # the buckets of a day, and "last"
    assert 0 < redis_client.pttl(usage_key) <= key_usage.LIFETIME_MS


def test_the_list_filters_keys_by_state(admin_client, team_a):
    revoked, _ = TeamAPIKey.objects.create_key(team=team_a.team, name="old", revoked=True)
    expired, _ = TeamAPIKey.objects.create_key(team=team_a.team, name="temp",
                                               expiry_date=timezone.now() - timedelta(minutes=1))
    active = team_a.api_key
    assert listed(admin_client, "?state=revoked") == {revoked.prefix}
    assert listed(admin_client, "?state=expired") == {expired.prefix}
    assert listed(admin_client, "?state=active") == {active.prefix}
    assert listed(admin_client) == {revoked.prefix, expired.prefix, active.prefix}


def test_the_list_filters_keys_by_last_use(client, admin_client, team_a, team_b):
    stale, stale_raw = TeamAPIKey.objects.create_key(team=team_a.team, name="monthly")
    throttles.take(team_a.team.id, "feed", stale.prefix, 100, 60, now_ms=int(time.time() * 1000) - 40 * 24 * HOUR_MS)
    feed(client, team_a.key)
    assert listed(admin_client, "?used=never") == {team_b.api_key.prefix}
    assert listed(admin_client, "?used=unused") == {team_b.api_key.prefix, stale.prefix}
    assert listed(admin_client, "?used=day") == {team_a.api_key.prefix}
    # listing copied the last uses from Redis into the database
    stale.refresh_from_db()
    assert timezone.now() - stale.last_used > timedelta(days=39)


def test_the_last_use_outlives_the_redis_counters(client, admin_client, team_a, redis_client):
    feed(client, team_a.key)
    admin_client.get(LIST)  # copies it into the database
    redis_client.delete(keys.team(team_a.team.id).usage(team_a.api_key.prefix))
    row = key_row(admin_client.get(LIST).content.decode(), team_a.api_key.prefix)
    assert (row["last used"], row["requests, last 24 h"]) == ("just now", "0")


def test_revoking_selected_keys_makes_their_requests_401(client, admin_client, team_a, team_b):
    spare, spare_raw = TeamAPIKey.objects.create_key(team=team_a.team, name="spare")
    response = action(admin_client, "revoke_selected", team_a.api_key)
    assert "Revoked 1 API key;" in response.content.decode()
    assert feed(client, team_a.key).status_code == 401
    assert feed(client, spare_raw).status_code == 200
    assert feed(client, team_b.key).status_code == 200
    assert listed(admin_client, "?state=revoked") == {team_a.api_key.prefix}


def test_rotating_a_key_shows_the_new_one_once_and_the_old_one_works_for_the_grace_period(
        client, admin_client, team_a, settings):
    settings.ARGUS_KEY_ROTATION_GRACE_SECONDS = 3600
    old = team_a.api_key
    response = action(admin_client, "rotate_selected", old)
    raw = shown_key(response, old.name)
    new = TeamAPIKey.objects.get(prefix=raw.partition(".")[0])
    assert new.team == old.team and new.pk != old.pk
    assert f"It replaces {old.prefix}, which keeps working until" in response.content.decode()
    assert feed(client, raw).status_code == 200
    assert feed(client, team_a.key).status_code == 200  # within the grace period
    old.refresh_from_db()
    assert timedelta(minutes=59) < old.expiry_date - timezone.now() <= timedelta(hours=1)
    TeamAPIKey.objects.filter(pk=old.pk).update(expiry_date=timezone.now())  # the grace period ends
    assert feed(client, team_a.key).status_code == 401
    assert feed(client, raw).status_code == 200
    assert raw not in admin_client.get(LIST).content.decode()


def test_rotation_keeps_an_earlier_expiry_date(admin_client, team_a, settings):
    soon = timezone.now() + timedelta(minutes=30)
    TeamAPIKey.objects.filter(pk=team_a.api_key.pk).update(expiry_date=soon)
    raw = shown_key(action(admin_client, "rotate_selected", team_a.api_key), team_a.api_key.name)
    team_a.api_key.refresh_from_db()
    assert team_a.api_key.expiry_date == soon
    assert TeamAPIKey.objects.get(prefix=raw.partition(".")[0]).expiry_date == soon  # the policy carries over


def test_a_rotation_grace_of_zero_revokes_the_old_key_at_once(client, admin_client, team_a, settings):
    settings.ARGUS_KEY_ROTATION_GRACE_SECONDS = 0
    raw = shown_key(action(admin_client, "rotate_selected", team_a.api_key), team_a.api_key.name)
    assert feed(client, team_a.key).status_code == 401
    assert feed(client, raw).status_code == 200


def test_a_revoked_key_is_not_rotated(admin_client, team_a):
    TeamAPIKey.objects.filter(pk=team_a.api_key.pk).update(revoked=True)
    response = action(admin_client, "rotate_selected", team_a.api_key)
    assert "is revoked or expired: create a new key instead" in response.content.decode()
    assert TeamAPIKey.objects.filter(team=team_a.team).count() == 1


def test_the_key_list_costs_the_same_queries_for_any_number_of_keys(admin_client, team_a, client):
    def queries_of_the_list():
        feed(client, team_a.key)  # a last use to copy into the database
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(LIST).status_code == 200
        return len(queries)

    few = queries_of_the_list()
    for n in range(20):
        TeamAPIKey.objects.create_key(team=team_a.team, name=f"extra-{n}")
    assert queries_of_the_list() == few


def test_deleting_a_key_deletes_its_usage_counters_and_no_other_keys(client, team_a, team_b, redis_client):
    feed(client, team_a.key)
    feed(client, team_b.key)
    team_a.api_key.delete()
    assert not redis_client.exists(keys.team(team_a.team.id).usage(team_a.api_key.prefix))
    assert redis_client.exists(keys.team(team_b.team.id).usage(team_b.api_key.prefix))


def test_a_key_is_deleted_even_while_redis_is_down(team_a, settings):
    from core.local_redis import free_port

    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    team_a.api_key.delete()
    assert not TeamAPIKey.objects.filter(pk=team_a.api_key.pk).exists()
