"""The alert timeline: hysteresis across runs, the events it stores, `since` on /alerts/active,
and what forgetting a server or deleting a team leaves of it."""
from datetime import datetime, timedelta, timezone

from core import keys
from timeline.models import AlertEvent
from timeline.retention import delete_expired_events
from timeline.state import open_alerts
from tests.factories import make_batch
from tests.timeline_helpers import at_of_tick, run


def events(team):
    return [(e.event, e.level, e.previous_level, e.at.isoformat().replace("+00:00", "Z"))
            for e in AlertEvent.objects.filter(team=team.team).order_by("id")]


def script(team, levels, server="web01"):
    for tick, level in enumerate(levels, start=1):
        run(team.team.id, tick, {server: level})


def test_a_scripted_sequence_yields_every_kind_of_event_once(team_a):
    script(team_a, ["healthy", "degraded", "warning", "critical", "warning", "warning", "healthy", "healthy"])
    assert events(team_a) == [
        ("opened", "degraded", None, at_of_tick(2)),
        ("escalated", "warning", "degraded", at_of_tick(3)),
        ("escalated", "critical", "warning", at_of_tick(4)),
        ("de-escalated", "warning", "critical", at_of_tick(6)),  # the second lower run
        ("resolved", "healthy", "warning", at_of_tick(8)),
    ]
    assert open_alerts(team_a.team.id) == {}


def test_an_event_carries_the_runs_risk_score_and_message(team_a):
    script(team_a, ["critical", "healthy", "healthy"])
    opened, resolved = AlertEvent.objects.filter(team=team_a.team).order_by("id")
    assert (opened.server_name, opened.metric, opened.risk_score) == ("web01", "cpu_pct", 100)
    assert opened.message == "CPU saturation now: cpu_pct is 95.0, at or above 90"
    assert resolved.risk_score < 50 and resolved.message == "CPU saturation no longer expected"


def test_a_level_oscillating_around_a_threshold_opens_one_alert(team_a):
    script(team_a, ["degraded", "healthy"] * 5)
    assert events(team_a) == [("opened", "degraded", None, at_of_tick(1))]


def test_de_escalation_needs_two_consecutive_lower_runs(team_a):
    script(team_a, ["critical", "warning", "critical", "warning"])
    assert [e[0] for e in events(team_a)] == ["opened"]
    run(team_a.team.id, 5, {"web01": "warning"})
    assert events(team_a)[-1] == ("de-escalated", "warning", "critical", at_of_tick(5))


def test_a_drop_goes_to_the_highest_level_of_the_lower_runs(team_a):
    script(team_a, ["critical", "warning", "healthy"])
    assert events(team_a)[-1][:3] == ("de-escalated", "warning", "critical")


def test_a_repeated_run_of_the_same_tick_counts_once(team_a):
    run(team_a.team.id, 1, {"web01": "critical"})
    run(team_a.team.id, 2, {"web01": "healthy"})
    run(team_a.team.id, 2, {"web01": "healthy"})  # a redelivered task
    assert [e[0] for e in events(team_a)] == ["opened"]
    run(team_a.team.id, 3, {"web01": "healthy"})
    assert [e[0] for e in events(team_a)] == ["opened", "resolved"]


def test_a_server_not_scored_in_a_run_keeps_its_alert(team_a):
    run(team_a.team.id, 1, {"web01": "critical", "web02": "healthy"})
    for tick in (2, 3):  # web01 held but not scored (too little history)
        run(team_a.team.id, tick, {"web02": "healthy"}, known=["web01", "web02"])
    assert [e[0] for e in events(team_a)] == ["opened"]
    assert set(open_alerts(team_a.team.id)) == {("web01", "cpu_pct")}


def test_a_server_the_team_no_longer_holds_loses_its_alert_silently(team_a):
    run(team_a.team.id, 1, {"web01": "critical", "web02": "healthy"})
    run(team_a.team.id, 2, {"web02": "healthy"})  # web01's window expired
    assert open_alerts(team_a.team.id) == {}
    assert [e[0] for e in events(team_a)] == ["opened"]


def test_active_alerts_say_since_when_they_are_open(client, team_a):
    script(team_a, ["healthy", "degraded", "critical", "warning"])
    body = client.get("/alerts/active", **team_a.headers).json()
    assert [(a["server_name"], a["level"], a["since"]) for a in body["alerts"]] == [("web01", "warning", at_of_tick(2))]
    opened = AlertEvent.objects.get(team=team_a.team, event="opened")
    assert body["alerts"][0]["since"] == opened.at.isoformat().replace("+00:00", "Z")


def test_an_alert_reopened_after_resolving_has_a_new_since(client, team_a):
    script(team_a, ["critical", "healthy", "healthy", "degraded"])
    body = client.get("/alerts/active", **team_a.headers).json()
    assert body["alerts"][0]["since"] == at_of_tick(4)


def test_teams_have_their_own_timelines(team_a, team_b):
    run(team_a.team.id, 1, {"web01": "critical"})
    run(team_b.team.id, 1, {"web01": "healthy"})
    run(team_b.team.id, 2, {"web01": "healthy"})
    assert [e[0] for e in events(team_a)] == ["opened"] and events(team_b) == []
    assert open_alerts(team_b.team.id) == {}


def test_forgetting_a_server_drops_its_alert_state_and_events(client, team_a):
    client.post("/feed/data", {"records": make_batch(2)}, format="json", **team_a.headers)
    run(team_a.team.id, 1, {"ppdb001": "critical", "ppdb002": "critical"})
    assert client.delete("/feed/servers/ppdb001", **team_a.headers).status_code == 200
    assert set(open_alerts(team_a.team.id)) == {("ppdb002", "cpu_pct")}
    assert list(AlertEvent.objects.values_list("server_name", flat=True)) == ["ppdb002"]


def test_a_server_known_only_to_the_timeline_can_be_forgotten(client, team_a):
    run(team_a.team.id, 1, {"gone01": "critical"})
    assert client.delete("/feed/servers/gone01", **team_a.headers).status_code == 200
    assert not AlertEvent.objects.exists()


def test_deleting_a_team_deletes_its_alert_state_and_events(team_a, team_b, redis_client):
    run(team_a.team.id, 1, {"web01": "critical"})
    run(team_b.team.id, 1, {"web01": "critical"})
    team_a.team.delete()
    assert not redis_client.exists(keys.team(team_a.team.id).alert_state)
    assert list(AlertEvent.objects.values_list("team_id", flat=True)) == [team_b.team.id]


def test_events_older_than_the_history_days_are_deleted(team_a, settings):
    settings.ARGUS_HISTORY_DAYS = 30
    run(team_a.team.id, 1, {"web01": "critical"})
    event = AlertEvent.objects.get()
    assert delete_expired_events(now=event.at + timedelta(days=29)) == 0
    assert delete_expired_events(now=event.at + timedelta(days=30, seconds=1)) == 1
    assert not AlertEvent.objects.exists()


def test_a_database_outage_loses_the_events_but_not_the_run(team_a, caplog):
    from django.db import connection

    run(team_a.team.id, 1, {"web01": "healthy"})
    with connection.cursor() as cursor:  # the table is gone: every insert fails
        cursor.execute("ALTER TABLE timeline_alertevent RENAME TO timeline_alertevent_away")
    try:
        alerts = run(team_a.team.id, 2, {"web01": "critical"})
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE timeline_alertevent_away RENAME TO timeline_alertevent")
    assert alerts["alerts"][0]["since"] == at_of_tick(2)
    assert "alert events not stored" in caplog.text
    assert set(open_alerts(team_a.team.id)) == {("web01", "cpu_pct")}


def test_resolved_is_stamped_at_the_runs_data_time_not_the_clock(team_a):
    script(team_a, ["critical", "healthy", "healthy"])
    resolved = AlertEvent.objects.get(event="resolved")
    assert resolved.at == datetime.fromisoformat(at_of_tick(3).replace("Z", "+00:00")).astimezone(timezone.utc)
