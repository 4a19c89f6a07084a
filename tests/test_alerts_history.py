"""GET /alerts/history: the team's alert transitions, newest first, filtered and paged."""
import pytest

from tests.timeline_helpers import at_of_tick, run

SINCE = "2025-03-01T00:00:00Z"


@pytest.fixture
def timeline(team_a):
    """web01: opened at tick 1, escalated at 2, resolved at 5; web02: opened at 3."""
    for tick, levels in enumerate([{"web01": "warning", "web02": "healthy"}, {"web01": "critical", "web02": "healthy"},
                                   {"web01": "healthy", "web02": "degraded"}, {"web01": "healthy", "web02": "degraded"},
                                   {"web01": "healthy", "web02": "degraded"}], start=1):
        run(team_a.team.id, tick, levels)


def get(client, team, **params):
    return client.get("/alerts/history", params, **team.headers)


def test_it_lists_every_transition_newest_first(client, team_a, timeline):
    body = get(client, team_a, since=SINCE).json()
    assert body["count"] == 4 and body["next_cursor"] is None
    assert [(e["server_name"], e["event"], e["at"]) for e in body["events"]] == [
        ("web01", "resolved", at_of_tick(4)),
        ("web02", "opened", at_of_tick(3)),
        ("web01", "escalated", at_of_tick(2)),
        ("web01", "opened", at_of_tick(1)),
    ]
    assert body["events"][2] == {"server_name": "web01", "metric": "cpu_pct", "event": "escalated", "level": "critical",
                                 "previous_level": "warning", "risk_score": 100,
                                 "message": "CPU saturation now: cpu_pct is 95.0, at or above 90", "at": at_of_tick(2)}


def test_since_is_inclusive_and_until_exclusive(client, team_a, timeline):
    body = get(client, team_a, since=at_of_tick(2), until=at_of_tick(4)).json()
    assert [e["at"] for e in body["events"]] == [at_of_tick(3), at_of_tick(2)]


def test_it_filters_by_server(client, team_a, timeline):
    body = get(client, team_a, since=SINCE, server="web02").json()
    assert [(e["server_name"], e["event"]) for e in body["events"]] == [("web02", "opened")]


def test_pages_follow_the_cursor_without_gaps_or_repeats(client, team_a, timeline):
    first = get(client, team_a, since=SINCE, limit=3).json()
    assert first["count"] == 3 and first["next_cursor"]
    second = get(client, team_a, since=SINCE, limit=3, cursor=first["next_cursor"]).json()
    assert second["count"] == 1 and second["next_cursor"] is None
    whole = get(client, team_a, since=SINCE).json()["events"]
    assert first["events"] + second["events"] == whole


def test_events_of_one_run_are_paged_one_by_one(client, team_a):
    run(team_a.team.id, 1, {f"web{i:02d}": "critical" for i in range(5)})  # five events at one time
    seen, cursor = [], None
    while True:
        body = get(client, team_a, since=SINCE, limit=2, **({"cursor": cursor} if cursor else {})).json()
        seen += [e["server_name"] for e in body["events"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == [f"web{i:02d}" for i in range(5)] and len(seen) == 5


def test_a_team_sees_only_its_own_events(client, team_a, team_b, timeline):
    assert get(client, team_b, since=SINCE).json() == {"count": 0, "events": [], "next_cursor": None}
    run(team_b.team.id, 1, {"db01": "critical"})
    assert [e["server_name"] for e in get(client, team_b, since=SINCE).json()["events"]] == ["db01"]


@pytest.mark.parametrize("params, named", [
    ({}, "since"),
    ({"since": "yesterday"}, "since"),
    ({"since": SINCE, "until": "2025-02-01T00:00:00Z"}, "until"),
    ({"since": SINCE, "until": "soon"}, "until"),
    ({"since": SINCE, "limit": "0"}, "limit"),
    ({"since": SINCE, "limit": "1001"}, "limit"),
    ({"since": SINCE, "limit": "ten"}, "limit"),
    ({"since": SINCE, "cursor": "abc"}, "cursor"),
    ({"since": SINCE, "server": "x" * 129}, "server"),
    ({"since": SINCE, "servers": "web01"}, "'servers'"),
])
def test_a_bad_parameter_is_a_400_naming_it(client, team_a, params, named):
    response = get(client, team_a, **params)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{named}: ")


def test_it_needs_a_key(client):
    assert client.get("/alerts/history", {"since": SINCE}).status_code == 401


def test_it_has_the_read_rate_limit(client, team_a, settings):
    settings.ARGUS_RATE_READ = "3/min"
    codes = [get(client, team_a, since=SINCE).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_it_answers_503_when_redis_is_down(client, team_a, timeline, settings):
    # the events are in the database, but the key's rate limit is counted in Redis
    from core.local_redis import free_port

    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    response = get(client, team_a, since=SINCE)
    assert response.status_code == 503 and "Redis" in response.json()["detail"]
