"""Alert transitions pushed to a real Prometheus Alertmanager (v2 API): an opened alert shows up
with its labels and annotations, a resolved one leaves the active alerts, a level change swaps
the severity, firing alerts are re-sent with an end a few intervals ahead, and an unreachable
Alertmanager loses nothing. The notifier's work is run in the test process (notify.notifier);
tests/test_notify_live.py goes through the real Celery processes."""
from datetime import datetime, timedelta, timezone

import pytest

from core import keys
from notify import alertmanager_state
from notify.alertmanager import Alertmanager as Client
from notify.notifier import notify_team
from tests.notify_helpers import Alertmanager
from tests.timeline_helpers import run


@pytest.fixture
def alertmanager(tmp_path, settings):
    manager = Alertmanager(tmp_path)
    settings.ARGUS_ALERTMANAGER_URL = manager.url
    settings.ARGUS_NOTIFY_SECONDS = 60
    yield manager
    manager.stop()


def script(team, levels, server="web01", first_tick=1):
    for tick, level in enumerate(levels, start=first_tick):
        run(team.team.id, tick, {server: level})
        notify_team(team.team.id)


def parse(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_an_opened_alert_shows_up_with_its_labels_and_annotations(alertmanager, team_a):
    script(team_a, ["healthy", "critical"])
    (alert,) = alertmanager.alerts()
    assert alert["labels"] == {"alertname": "ArgusIncidentRisk", "team": "team-a", "server": "web01",
                               "metric": "cpu_pct", "severity": "critical"}
    assert alert["annotations"] == {"summary": "CPU saturation now: cpu_pct is 95.0, at or above 90",
                                    "time_to_issue": "now", "risk_score": "100"}
    assert alert["status"]["state"] == "active"
    assert alert["startsAt"].startswith("2025-03-19T16:10:00")  # the data time of the run that opened it


def test_a_resolved_alert_leaves_the_active_alerts(alertmanager, team_a, redis_client):
    script(team_a, ["warning"])
    assert len(alertmanager.alerts(server="web01")) == 1
    script(team_a, ["healthy", "healthy"], first_tick=2)  # resolved at the second lower run
    assert alertmanager.alerts() == []
    assert not redis_client.exists(keys.team(team_a.team.id).notify_alertmanager)  # told: nothing kept


def test_an_escalation_ends_the_lower_severity_and_fires_the_higher(alertmanager, team_a):
    script(team_a, ["degraded", "critical"])
    assert [a["labels"]["severity"] for a in alertmanager.alerts()] == ["critical"]


def test_a_firing_alert_is_resent_ending_four_intervals_ahead(alertmanager, team_a):
    script(team_a, ["critical"])
    now = datetime.now(timezone.utc)
    assert abs(parse(alertmanager.alerts()[0]["endsAt"]) - (now + timedelta(minutes=4))) < timedelta(seconds=5)
    later = now + timedelta(minutes=3)
    notify_team(team_a.team.id, now=later)  # a notifier pass three minutes on, no new transition
    (alert,) = alertmanager.alerts()
    assert abs(parse(alert["endsAt"]) - (later + timedelta(minutes=4))) < timedelta(seconds=5)
    assert alert["startsAt"].startswith("2025-03-19T16:05:00")  # the same alert, extended


def test_teams_alerts_are_labelled_with_their_own_team(alertmanager, team_a, team_b):
    run(team_a.team.id, 1, {"web01": "critical"})
    run(team_b.team.id, 1, {"db01": "warning"})
    notify_team(team_a.team.id)
    notify_team(team_b.team.id)
    assert sorted((a["labels"]["team"], a["labels"]["server"], a["labels"]["severity"]) for a in alertmanager.alerts()) \
        == [("team-a", "web01", "critical"), ("team-b", "db01", "warning")]


def test_a_forgotten_servers_alert_is_resolved(alertmanager, client, team_a):
    run(team_a.team.id, 1, {"web01": "critical", "web02": "critical"})
    notify_team(team_a.team.id)
    assert client.delete("/feed/servers/web01", **team_a.headers).status_code == 200  # no transition for it
    notify_team(team_a.team.id)
    assert [a["labels"]["server"] for a in alertmanager.alerts()] == ["web02"]


def test_an_unreachable_alertmanager_loses_nothing(alertmanager, team_a, settings):
    real = alertmanager.url
    settings.ARGUS_ALERTMANAGER_URL = "http://127.0.0.1:9"  # nothing listens there
    run(team_a.team.id, 1, {"web01": "critical"})
    result = notify_team(team_a.team.id)
    assert result.alertmanager.startswith("failed (ConnectionError")
    run(team_a.team.id, 2, {"web02": "warning"}, known=["web01", "web02"])  # web01 not scored, still open
    notify_team(team_a.team.id)
    settings.ARGUS_ALERTMANAGER_URL = real  # back: the next pass tells it everything
    assert notify_team(team_a.team.id).alertmanager == "sent"
    assert sorted(a["labels"]["server"] for a in alertmanager.alerts()) == ["web01", "web02"]


def test_a_pass_gives_up_on_an_unreachable_alertmanager_after_one_try(team_a, team_b, settings):
    settings.ARGUS_ALERTMANAGER_URL = "http://127.0.0.1:9"
    run(team_a.team.id, 1, {"web01": "critical"})
    run(team_b.team.id, 1, {"web01": "critical"})
    am = Client()
    assert notify_team(team_a.team.id, am).alertmanager.startswith("failed")
    assert notify_team(team_b.team.id, am).alertmanager.startswith("failed")
    assert am.failed == "ConnectionError"
    assert len(alertmanager_state.read(team_b.team.id)) == 1  # kept for the next pass


def test_without_an_alertmanager_url_nothing_is_kept_for_it(team_a, settings, redis_client):
    settings.ARGUS_ALERTMANAGER_URL = ""
    run(team_a.team.id, 1, {"web01": "critical"})
    assert notify_team(team_a.team.id).alertmanager == "off"
    assert not redis_client.exists(keys.team(team_a.team.id).notify_alertmanager)
    assert not redis_client.exists(keys.team(team_a.team.id).notify_outbox)


def test_a_beat_pass_notifies_every_team_a_notifier_task_missed(alertmanager, team_a, team_b, redis_client):
    from notify.tasks import notify_all

    run(team_a.team.id, 1, {"web01": "critical"})
    run(team_b.team.id, 1, {"db01": "warning"})  # no notifier task ran for either (e.g. none was running)
    notify_all()
    assert sorted(a["labels"]["team"] for a in alertmanager.alerts()) == ["team-a", "team-b"]
    assert not redis_client.exists(keys.team(team_a.team.id).notify_outbox)


def test_a_run_that_cannot_store_its_events_still_pages(alertmanager, team_a):
    from django.db import connection

    with connection.cursor() as cursor:  # every insert of alert events fails during the run
        cursor.execute("ALTER TABLE timeline_alertevent RENAME TO timeline_alertevent_away")
    try:
        run(team_a.team.id, 1, {"web01": "critical"})
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE timeline_alertevent_away RENAME TO timeline_alertevent")
    notify_team(team_a.team.id)
    assert [a["labels"]["server"] for a in alertmanager.alerts()] == ["web01"]
