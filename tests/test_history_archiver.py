"""Point history: every accepted point reaches the database through the team's Redis stream and
the archiver, off the request path; bounds, idempotence, re-sent points, retention, forgetting."""
from datetime import datetime, timedelta, timezone
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import keys
from feeds.schema import METRICS
from feeds.windows import forget_server as forget_window
from history import stream
from history.archiver import archive_all, delete_expired_days, store_entries
from history.models import ServerDay
from history.params import Span
from history.reading import server_span
from tests.factories import data_time, make_batch, make_record
from tests.history_helpers import feed, feed_and_archive

pytestmark = pytest.mark.django_db


def stored(tenant, server, timestamp):
    """(status code, 14 values) stored for the server at `timestamp`, or None."""
    slot = int(datetime.fromisoformat(timestamp).replace(tzinfo=timezone.utc).timestamp()) // 300
    present, statuses, values = server_span(tenant.team.id, server, Span(slot, slot + 1))
    return (int(statuses[0]), values[0].tolist()) if present[0] else None


def rows(tenant, server=None):
    query = ServerDay.objects.filter(team=tenant.team)
    return query.filter(server_name=server) if server else query


def test_a_point_fed_3_days_ago_is_stored_with_its_values(client, team_a):
    when = data_time(days_ago=3)
    record = make_record("ppdb001", when, status="heavy_load", cpu_user_pct=91.7, back_close_wait=1234)
    result = feed_and_archive(client, team_a, [record])
    assert (result.points, result.teams) == (1, 1)
    status, values = stored(team_a, "ppdb001", when)
    assert status == 2  # heavy_load
    assert values == pytest.approx([np.float32(record[m]) for m in METRICS], rel=0)
    assert stream.state(team_a.team.id) == {"pending": 0, "dropped": 0}


def test_feeding_writes_to_no_history_table(client, team_a):
    with CaptureQueriesContext(connection) as queries:
        feed(client, team_a, make_batch(45, data_time(hours_ago=1)))
    assert queries.captured_queries  # the key lookup
    assert not [q for q in queries.captured_queries if "history" in q["sql"]]
    assert not rows(team_a).exists()
    assert stream.state(team_a.team.id)["pending"] == 45


def test_a_re_sent_point_replaces_its_slot(client, team_a):
    when = data_time(days_ago=1)
    feed_and_archive(client, team_a, [make_record("ppdb001", when, mem_used_pct=50.0)])
    feed(client, team_a, [make_record("ppdb001", when, mem_used_pct=60.0)])
    feed(client, team_a, [make_record("ppdb001", when, mem_used_pct=70.5)])  # both waiting: the last wins
    archive_all()
    assert stored(team_a, "ppdb001", when)[1][METRICS.index("mem_used_pct")] == 70.5
    assert rows(team_a).get().points == 1


def test_storing_the_same_entries_twice_changes_nothing(client, team_a):
    """A run cut off after its commit, before deleting the entries: the next run stores them again."""
    feed(client, team_a, make_batch(3, data_time(days_ago=2)))
    feed(client, team_a, make_batch(3, data_time(days_ago=2, minutes_ago=-5), cpu_user_pct=33.0))
    entries = stream.oldest_entries(team_a.team.id, 100)
    store_entries(team_a.team.id, entries)
    first = {(r.server_name, r.day): (r.points, bytes(r.data)) for r in rows(team_a)}
    assert archive_all().points == 6  # the same entries, stored again, then deleted from the stream
    assert {(r.server_name, r.day): (r.points, bytes(r.data)) for r in rows(team_a)} == first
    assert stream.oldest_entries(team_a.team.id, 100) == []
    assert stream.state(team_a.team.id)["pending"] == 0


def test_nothing_is_lost_when_the_archiver_was_down_for_6_hours(client, team_a, settings):
    settings.ARGUS_RATE_FEED = "1000/min"
    ticks = [data_time(hours_ago=6, minutes_ago=-5 * k) for k in range(72)]
    for k, when in enumerate(ticks):  # one batch per tick, as a feeder sends them
        feed(client, team_a, make_batch(45, when, load_average=float(k)))
    assert stream.state(team_a.team.id) == {"pending": 72 * 45, "dropped": 0}
    assert archive_all().points == 72 * 45
    assert sum(r.points for r in rows(team_a)) == 72 * 45
    for k in (0, 35, 71):
        assert stored(team_a, "ppdb045", ticks[k])[1][METRICS.index("load_average")] == k


def test_past_its_bound_the_stream_drops_the_oldest_points_and_says_so(client, team_a, settings):
    settings.ARGUS_HISTORY_BUFFER_SLOTS = 10  # points per server held
    ticks = [data_time(hours_ago=2, minutes_ago=-5 * k) for k in range(15)]
    for when in ticks:
        feed(client, team_a, [make_record("ppdb001", when)])
    assert stream.state(team_a.team.id) == {"pending": 10, "dropped": 5}
    status = client.get("/status", **team_a.headers).json()
    assert (status["history_pending_points"], status["history_dropped_points"]) == (10, 5)
    archive_all()
    assert [stored(team_a, "ppdb001", when) is not None for when in ticks] == [False] * 5 + [True] * 10


def test_a_batch_larger_than_the_bound_is_kept_whole(client, team_a, settings):
    settings.ARGUS_HISTORY_BUFFER_SLOTS = 10
    feed(client, team_a, [make_record("ppdb001", data_time(hours_ago=5, minutes_ago=-5 * k)) for k in range(30)])
    assert stream.state(team_a.team.id) == {"pending": 30, "dropped": 0}
    assert archive_all().points == 30


def test_retention_deletes_the_days_past_the_limit(client, team_a, settings):
    settings.ARGUS_HISTORY_DAYS = 30
    old, recent = data_time(days_ago=3), data_time(days_ago=1)
    feed_and_archive(client, team_a, [make_record("ppdb001", old), make_record("ppdb001", recent)])
    assert rows(team_a).count() == 2
    today = datetime.now(timezone.utc).date()
    assert delete_expired_days(today=today + timedelta(days=28)) == 1  # `old` is now 31 days old
    assert stored(team_a, "ppdb001", old) is None
    assert stored(team_a, "ppdb001", recent) is not None


def test_a_replay_older_than_the_limit_is_not_stored(client, team_a, settings):
    settings.ARGUS_HISTORY_DAYS = 30
    result = feed_and_archive(client, team_a, [make_record("ppdb001", data_time(days_ago=32)),
                                               make_record("ppdb001", data_time(days_ago=29))])
    assert [r.day for r in rows(team_a)] == [(datetime.now(timezone.utc) - timedelta(days=29)).date()]
    assert result.points == 2  # both taken from the stream
    assert stream.state(team_a.team.id)["pending"] == 0


def test_forgetting_a_server_forgets_its_history_and_its_points_on_their_way(client, team_a):
    feed_and_archive(client, team_a, make_batch(2, data_time(days_ago=2)))
    feed(client, team_a, make_batch(2, data_time(days_ago=1)))  # not archived yet
    assert client.delete("/feed/servers/ppdb002", **team_a.headers).status_code == 200
    assert not rows(team_a, "ppdb002").exists()
    archive_all()
    assert not rows(team_a, "ppdb002").exists()
    assert rows(team_a, "ppdb001").count() == 2
    feed_and_archive(client, team_a, [make_record("ppdb002", data_time(hours_ago=1))])  # back, after the forget
    assert rows(team_a, "ppdb002").count() == 1
    assert client.delete("/feed/servers/ppdb002", **team_a.headers).json()["points_removed"] == 1


def test_a_server_only_history_still_knows_can_be_forgotten(client, team_a):
    feed_and_archive(client, team_a, [make_record("ppdb001", data_time(days_ago=2))])
    forget_window(team_a.team.id, "ppdb001")  # as ARGUS_SERVER_TTL does after 7 silent days
    response = client.delete("/feed/servers/ppdb001", **team_a.headers)
    assert response.status_code == 200
    assert response.json()["points_removed"] == 0
    assert not rows(team_a).exists()
    assert client.delete("/feed/servers/ppdb001", **team_a.headers).status_code == 404


def test_forgetting_one_teams_server_leaves_another_teams_namesake(client, team_a, team_b):
    for tenant in (team_a, team_b):
        feed_and_archive(client, tenant, [make_record("ppdb001", data_time(days_ago=1))])
    client.delete("/feed/servers/ppdb001", **team_a.headers)
    assert not rows(team_a).exists()
    assert rows(team_b, "ppdb001").count() == 1


def test_deleting_a_team_deletes_its_history(client, team_a, team_b, redis_client):
    for tenant in (team_a, team_b):
        feed_and_archive(client, tenant, make_batch(3, data_time(days_ago=1)))
    feed(client, team_a, make_batch(3, data_time(hours_ago=1)))  # pending in the stream
    team_id = team_a.team.id
    team_a.team.delete()
    assert not ServerDay.objects.filter(team_id=team_id).exists()
    assert not redis_client.exists(keys.team(team_id).history_stream)
    assert rows(team_b).count() == 3
    assert archive_all().points == 0


def test_archive_history_runs_the_archiver_now(client, team_a):
    feed(client, team_a, make_batch(5, data_time(days_ago=1)))
    out = StringIO()
    call_command("archive_history", stdout=out)
    assert out.getvalue().strip() == "Stored 5 points of 1 teams; deleted 0 expired server-days."
    assert rows(team_a).count() == 5
    status = client.get("/status", **team_a.headers).json()
    assert status["history_pending_points"] == 0 and status["history_archived_at"] is not None


def test_a_run_holding_a_team_keeps_a_second_run_out(client, team_a):
    feed(client, team_a, make_batch(2, data_time(days_ago=1)))
    assert stream.take_lease(team_a.team.id, "another-run", 60)
    assert archive_all().points == 0
    stream.release_lease(team_a.team.id, "another-run")
    assert archive_all().points == 2
