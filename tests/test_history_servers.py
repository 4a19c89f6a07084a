"""GET /history/servers/<name>: a server's stored points over a range, slot by slot."""
from datetime import datetime, timedelta, timezone

import pytest

from feeds.schema import METRICS
from tests.factories import data_time, make_record
from tests.history_helpers import feed, feed_and_archive

pytestmark = pytest.mark.django_db


def history(client, tenant, server="ppdb001", **params):
    return client.get(f"/history/servers/{server}", params, **tenant.headers)


def later(timestamp, minutes):
    return (datetime.fromisoformat(timestamp) + timedelta(minutes=minutes)).isoformat()


def test_it_returns_a_point_fed_3_days_ago_with_its_exact_values(client, team_a):
    when = data_time(days_ago=3)
    record = make_record("ppdb001", when, status="maintenance", cpu_user_pct=12.34, net_in_mb_s=0.001,
                         load_average=123456.5, back_close_wait=9999999, uptime_days=364)
    feed_and_archive(client, team_a, [record])
    response = history(client, team_a, start=when, end=later(when, 15))
    assert response.status_code == 200
    body = response.json()
    assert body["server_name"] == "ppdb001" and body["step_seconds"] == 300
    assert (body["start"], body["end"]) == (when + "Z", later(when, 15) + "Z")
    assert body["timestamps"] == [when + "Z", later(when, 5) + "Z", later(when, 10) + "Z"]
    assert list(body["metrics"]) == list(METRICS)
    assert {m: series[0] for m, series in body["metrics"].items()} == {m: record[m] for m in METRICS}
    assert all(series[1:] == [None, None] for series in body["metrics"].values())
    assert body["status"] == ["maintenance", None, None]


def test_it_leaves_null_in_the_slots_that_hold_no_point(client, team_a):
    first = data_time(days_ago=1)
    feed_and_archive(client, team_a, [make_record("ppdb001", first, mem_used_pct=40.0),
                                      make_record("ppdb001", later(first, 10), mem_used_pct=42.0)])
    body = history(client, team_a, start=first, end=later(first, 15), metrics="mem_used_pct").json()
    assert body["metrics"] == {"mem_used_pct": [40.0, None, 42.0]}
    assert body["status"] == ["healthy", None, "healthy"]


def test_a_range_across_midnight_reads_both_days(client, team_a):
    midnight = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None) - timedelta(days=2)
    before, after = (midnight - timedelta(minutes=5)).isoformat(), midnight.isoformat()
    feed_and_archive(client, team_a, [make_record("ppdb001", before, cpu_sys_pct=1.0),
                                      make_record("ppdb001", after, cpu_sys_pct=2.0)])
    body = history(client, team_a, start=before, end=later(after, 5), metrics="cpu_sys_pct").json()
    assert body["metrics"]["cpu_sys_pct"] == [1.0, 2.0]


def test_start_is_floored_to_the_grid_and_end_is_exclusive(client, team_a):
    when = data_time(days_ago=1)
    feed_and_archive(client, team_a, [make_record("ppdb001", when)])
    body = history(client, team_a, start=later(when, 3), end=later(when, 5)).json()
    assert body["timestamps"] == [when + "Z"]
    assert body["metrics"]["cpu_user_pct"] == [25.3]


def test_metrics_picks_the_series_in_the_order_asked(client, team_a):
    when = data_time(days_ago=1)
    feed_and_archive(client, team_a, [make_record("ppdb001", when)])
    body = history(client, team_a, start=when, end=later(when, 5), metrics="uptime_days,cpu_idle_pct").json()
    assert body["metrics"] == {"uptime_days": [45], "cpu_idle_pct": [64.4]}


def test_by_default_it_covers_the_last_day(client, team_a):
    recent, old = data_time(hours_ago=2), data_time(hours_ago=30)
    feed_and_archive(client, team_a, [make_record("ppdb001", recent), make_record("ppdb001", old)])
    body = history(client, team_a).json()
    assert len(body["timestamps"]) in (288, 289)
    assert recent + "Z" in body["timestamps"] and old + "Z" not in body["timestamps"]
    assert sum(v is not None for v in body["metrics"]["cpu_user_pct"]) == 1


def test_a_server_whose_points_wait_for_the_archiver_answers_with_nulls(client, team_a):
    when = data_time(hours_ago=1)
    feed(client, team_a, [make_record("ppdb001", when)])
    response = history(client, team_a, start=when, end=later(when, 5))
    assert response.status_code == 200
    assert response.json()["status"] == [None]


def test_a_server_the_team_never_had_is_a_404(client, team_a):
    response = history(client, team_a, server="ghost")
    assert response.status_code == 404
    assert response.json() == {"detail": "No history for server 'ghost' in this team"}


def test_another_teams_server_is_a_404(client, team_a, team_b):
    when = data_time(days_ago=1)
    feed_and_archive(client, team_a, [make_record("ppdb001", when)])
    assert history(client, team_b, start=when, end=later(when, 5)).status_code == 404
    feed_and_archive(client, team_b, [make_record("ppdb001", when, cpu_user_pct=99.0)])  # a namesake
    assert history(client, team_b, start=when, end=later(when, 5)).json()["metrics"]["cpu_user_pct"] == [99.0]
    assert history(client, team_a, start=when, end=later(when, 5)).json()["metrics"]["cpu_user_pct"] == [25.3]


@pytest.mark.parametrize("params, message", [
    ({"start": "yesterday"}, "start: 'yesterday' is not an ISO 8601 date and time, e.g. 2025-01-15T10:00:00Z"),
    ({"end": "2025-13-01"}, "end: '2025-13-01' is not an ISO 8601 date and time, e.g. 2025-01-15T10:00:00Z"),
    ({"start": "2025-01-02", "end": "2025-01-01"}, "end: 2025-01-01T00:00:00Z is before start 2025-01-02T00:00:00Z"),
    ({"start": "2025-01-01", "end": "2025-02-02"}, "end: the range from start is 32 days; at most 31 days per request (split it)"),
    ({"start": "1999-12-31"}, "start: '1999-12-31' is outside 2000-2099"),
    ({"metrics": "cpu_user_pct,cpu_pct"}, "metrics: unknown metric 'cpu_pct'; known: " + ", ".join(METRICS)),
    ({"metric": "cpu_user_pct"}, "'metric': unknown parameter; this endpoint takes start, end, metrics"),
])
def test_a_bad_parameter_is_a_400_naming_it(client, team_a, params, message):
    response = history(client, team_a, **params)
    assert response.status_code == 400
    assert response.json() == {"detail": message}


def test_31_days_is_allowed(client, team_a):
    feed_and_archive(client, team_a, [make_record("ppdb001", data_time(days_ago=2))])
    response = history(client, team_a, start="2026-01-01T00:00:00Z", end="2026-02-01T00:00:00+00:00")
    assert response.status_code == 200
    assert len(response.json()["timestamps"]) == 31 * 288


def test_a_zone_offset_sent_unencoded_still_parses(client, team_a):
    feed_and_archive(client, team_a, [make_record("ppdb001", data_time(days_ago=2))])
    response = client.get("/history/servers/ppdb001?start=2025-01-15T12:00:00+02:00&end=2025-01-15T10:05:00Z",
                          **team_a.headers)
    assert response.status_code == 200
    assert response.json()["timestamps"] == ["2025-01-15T10:00:00Z"]


def test_it_needs_a_key(client):
    assert client.get("/history/servers/ppdb001").status_code == 401


def test_it_shares_the_read_rate_limit(client, team_a):
    feed_and_archive(client, team_a, [make_record("ppdb001", data_time(days_ago=1))])
    codes = [history(client, team_a).status_code for _ in range(31)]
    assert codes == [200] * 30 + [429]


def test_redis_unreachable_is_a_503(client, team_a, settings):
    from core.local_redis import free_port

    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    response = history(client, team_a)
    assert (response.status_code, response["Retry-After"]) == (503, "5")
    assert response.json()["detail"].startswith("Storage unavailable")
