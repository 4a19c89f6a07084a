"""POST /feed/data: the per-team bounds (servers held, new servers per hour), enforced inside
the append script so two web processes cannot race past them, and the bounded Redis calls that
keep one big team from stalling the others."""
import json

import numpy as np

from feeds.records import validate_batch
from feeds.windows import LimitExceeded, append_batch, read_windows, team_stats
from tests.factories import make_batch, make_record

HOUR_MS = 3600 * 1000


def post(client, tenant, records):
    return client.post("/feed/data", json.dumps({"records": records}), content_type="application/json", **tenant.headers)


def servers(names, timestamp="2025-01-15T10:00:00"):
    return [make_record(name, timestamp) for name in names]


def test_it_refuses_a_batch_that_would_pass_the_servers_per_team_limit_and_stores_nothing(client, team_a, settings):
    settings.ARGUS_MAX_SERVERS_PER_TEAM = 5
    assert post(client, team_a, servers(["a", "b", "c"])).status_code == 200
    response = post(client, team_a, servers(["a", "b", "d", "e", "f"], "2025-01-15T10:05:00"))
    assert response.status_code == 422
    assert response.json() == {"status": "error", "message": (
        "Batch adds 3 new servers to the 3 this team holds; the limit is 5 servers per team "
        "(ARGUS_MAX_SERVERS_PER_TEAM). Nothing was stored. Forget servers with "
        "DELETE /feed/servers/<name> or ask for a higher limit.")}
    stats = team_stats(team_a.team.id)
    assert (stats.tick, stats.points, stats.servers) == (1, 3, 3)
    # the servers it holds keep reporting, and it may grow up to the limit
    assert post(client, team_a, servers(["a", "b", "c", "d", "e"], "2025-01-15T10:05:00")).status_code == 200


def test_a_teams_own_limit_from_admin_overrides_the_default(client, team_a, team_b):
    team_a.team.max_servers = 2
    team_a.team.save()
    assert post(client, team_a, servers(["a", "b", "c"])).status_code == 422
    assert post(client, team_b, servers(["a", "b", "c"])).status_code == 200


def test_it_answers_429_with_retry_after_past_the_new_servers_per_hour_limit(client, team_a, team_b, settings):
    settings.ARGUS_MAX_NEW_SERVERS_PER_HOUR = 4
    assert post(client, team_a, servers(["a", "b", "c"])).status_code == 200
    response = post(client, team_a, servers(["d", "e"]))
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    assert "(ARGUS_MAX_NEW_SERVERS_PER_HOUR)" in response.json()["detail"]
    assert "Nothing was stored" in response.json()["detail"]
    assert team_stats(team_a.team.id).servers == 3
    assert post(client, team_b, servers(["d", "e"])).status_code == 200  # another team's hour


def test_an_hour_later_new_servers_are_allowed_again(team_a):
    def batch(names):
        return validate_batch(servers(names))

    append_batch(team_a.team.id, batch(["a", "b"]), now_ms=0, limits=(100, 2))
    try:
        append_batch(team_a.team.id, batch(["c"]), now_ms=HOUR_MS - 1, limits=(100, 2))
        raise AssertionError("a third new server within the hour was stored")
    except LimitExceeded as exc:
        assert (exc.setting, exc.held, exc.adding, exc.retry_after) == ("ARGUS_MAX_NEW_SERVERS_PER_HOUR", 2, 1, 1)
    assert append_batch(team_a.team.id, batch(["c"]), now_ms=HOUR_MS, limits=(100, 2)).servers == 3


def test_expired_servers_are_forgotten_at_most_a_thousand_per_call(team_a, settings):
    ttl_ms = settings.ARGUS_SERVER_TTL * 1000
    fleet = validate_batch(make_batch(2500), max_records=10_000)
    append_batch(team_a.team.id, fleet, now_ms=0)
    held = [team_stats(team_a.team.id, now_ms=ttl_ms + 1).servers for _ in range(3)]
    assert held == [1500, 500, 0]
    assert team_stats(team_a.team.id, now_ms=ttl_ms + 1).points == 0


def test_windows_read_in_chunks_are_the_same_windows(team_a):
    append_batch(team_a.team.id, validate_batch(make_batch(7)))
    append_batch(team_a.team.id, validate_batch(make_batch(5, "2025-01-15T10:05:00")))
    whole, chunked = read_windows(team_a.team.id), read_windows(team_a.team.id, chunk=2)
    assert (chunked.tick, sorted(chunked.windows)) == (2, sorted(whole.windows))
    assert len(chunked.windows) == 7
    for name, records in whole.windows.items():
        assert np.array_equal(chunked.windows[name], records)
        assert chunked.arrivals_ms[name] == whole.arrivals_ms[name]
