"""GET /health: 200 when the process and Redis answer, 503 otherwise."""
from feeds.local_redis import free_port


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
