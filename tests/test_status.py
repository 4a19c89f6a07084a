"""GET /status: service fields for anyone, the team's feed state for a key."""
from tests.factories import make_batch


def test_without_a_key_it_shows_only_service_fields(client, team_a, settings):
    client.post("/feed/data", {"records": make_batch(3)}, format="json", **team_a.headers)
    response = client.get("/status")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": settings.VERSION, "redis_reachable": True,
                               "model_loaded": False, "workers": 0, "model_version": None}


def test_with_a_key_it_shows_the_teams_feed_state(client, team_a):
    client.post("/feed/data", {"records": make_batch(45)}, format="json", **team_a.headers)
    client.post("/feed/data", {"records": make_batch(45, "2025-01-15T10:05:00")}, format="json", **team_a.headers)
    body = client.get("/status", **team_a.headers).json()
    assert body["team"] == "team-a"
    assert body["rolling_window_size"] == 90
    assert body["tick_count"] == 2
    assert body["servers_tracked"] == 45
    assert body["warmup_complete"] is False
    assert body["last_prediction"] is None


def test_warm_up_completes_at_the_configured_number_of_points(client, team_a, settings):
    settings.ARGUS_WARMUP_RECORDS = 3
    client.post("/feed/data", {"records": make_batch(3)}, format="json", **team_a.headers)
    assert client.get("/status", **team_a.headers).json()["warmup_complete"] is True


def test_each_team_sees_only_its_own_state(client, team_a, team_b):
    client.post("/feed/data", {"records": make_batch(5)}, format="json", **team_a.headers)
    body = client.get("/status", **team_b.headers).json()
    assert (body["team"], body["rolling_window_size"], body["tick_count"], body["servers_tracked"]) == ("team-b", 0, 0, 0)


def test_a_bad_key_is_refused_rather_than_treated_as_anonymous(client, team_a):
    response = client.get("/status", HTTP_X_API_KEY="bad.key")
    assert response.status_code == 401


def test_it_reports_redis_unreachable_without_a_key(client, settings):
    from core.local_redis import free_port

    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    response = client.get("/status")
    assert response.status_code == 200
    assert response.json()["redis_reachable"] is False


def test_predictions_are_stale_when_runs_stop_while_batches_keep_coming(client, team_a):
    import time

    from inference import cache

    # the last run finished 20 minutes ago, covering tick 1; runs have failed since (a Redis
    # outage mid-run), while the feeder kept sending: the newest batch is seconds old
    client.post("/feed/data", {"records": make_batch(3)}, format="json", **team_a.headers)
    old = {"tick": 1, "generated_at": time.time() - 1200, "model": {"version": "m"}}
    cache.store_predictions(team_a.team.id, old, {"tick": 1, "count": 0, "alerts": []})
    client.post("/feed/data", {"records": make_batch(3, "2025-01-15T10:05:00")}, format="json", **team_a.headers)
    assert client.get("/status", **team_a.headers).json()["predictions_stale"] is True


def test_predictions_covering_the_newest_batch_are_not_stale_however_old(client, team_a):
    import time

    from inference import cache

    client.post("/feed/data", {"records": make_batch(3)}, format="json", **team_a.headers)
    old = {"tick": 1, "generated_at": time.time() - 1200, "model": {"version": "m"}}
    cache.store_predictions(team_a.team.id, old, {"tick": 1, "count": 0, "alerts": []})
    assert client.get("/status", **team_a.headers).json()["predictions_stale"] is False


def test_with_a_key_it_tells_when_the_last_batch_came_and_how_many_points_history_stores(client, team_a, team_b):
    from datetime import datetime, timezone

    from history.archiver import archive_all
    from tests.factories import data_time

    before = client.get("/status", **team_a.headers).json()
    assert (before["last_batch_at"], before["history_points_stored"]) == (None, 0)
    client.post("/feed/data", {"records": make_batch(5, data_time())}, format="json", **team_a.headers)
    archive_all()
    body = client.get("/status", **team_a.headers).json()
    last_batch = datetime.fromisoformat(body["last_batch_at"].replace("Z", "+00:00"))
    assert abs((datetime.now(timezone.utc) - last_batch).total_seconds()) < 5
    assert body["history_points_stored"] == 5
    assert client.get("/status", **team_b.headers).json()["history_points_stored"] == 0
