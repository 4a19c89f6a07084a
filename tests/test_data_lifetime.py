"""How long data lives: a persistent private Redis, documents that expire, a deleted team's data
purged, a forgotten server gone from the served predictions at once, and keys that carry an
installation prefix."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from core.local_redis import free_port
from feeds.windows import team_stats
from inference import cache
from tests.factories import make_batch, make_record

ROOT = Path(__file__).resolve().parent.parent


def feed(client, tenant, records):
    response = client.post("/feed/data", json.dumps({"records": records}), content_type="application/json", **tenant.headers)
    assert response.status_code == 200, response.content
    return response


@pytest.mark.slow  # a manage.py process and a redis-server
def test_the_redis_that_bin_start_starts_keeps_an_append_only_file(tmp_path):
    port = free_port()
    env = {**os.environ, "REDIS_URL": f"redis://127.0.0.1:{port}/0"}
    result = subprocess.run([sys.executable, str(ROOT / "manage.py"), "ensure_redis", "--dir", str(tmp_path)],
                            env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    started = redis.Redis(port=port)
    try:
        assert started.config_get("appendonly") == {"appendonly": "yes"}
        assert started.config_get("appendfsync") == {"appendfsync": "everysec"}
        assert started.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    finally:
        started.shutdown(nosave=True)


def test_prediction_documents_expire(team_a, redis_client, settings):
    document = {"tick": 1, "generated_at": time.time(), "model": {"version": "m"}}
    cache.store_predictions(team_a.team.id, document, {"tick": 1, "count": 0, "alerts": []})
    prefix = f"argus:{{{team_a.team.id}}}:"
    for key in ("predictions", "alerts", "predictions:meta"):
        assert 0 < redis_client.ttl(prefix + key) <= settings.ARGUS_PREDICTIONS_TTL


def test_deleting_a_team_purges_its_redis_data_and_no_one_elses(client, team_a, team_b, redis_client):
    for tenant in (team_a, team_b):
        feed(client, tenant, make_batch(3))
        cache.store_predictions(tenant.team.id, {"tick": 1, "generated_at": 1.0, "model": {"version": "m"}},
                                {"tick": 1, "count": 0, "alerts": []})
    a_keys = f"argus:{{{team_a.team.id}}}:*"
    assert len(list(redis_client.scan_iter(a_keys))) > 5  # windows, meta, rate log, documents...
    team_a.team.delete()
    assert list(redis_client.scan_iter(a_keys)) == []
    assert team_stats(team_b.team.id).points == 3
    assert cache.predictions_json(team_b.team.id) is not None


def served(level):
    return {"alert": {"level": level}, "stale": False, "risk_score": 50}


def test_a_forgotten_server_leaves_the_served_predictions_at_once(client, team_a):
    feed(client, team_a, [make_record("ppdb001"), make_record("ppdb002")])
    alert = {"server_name": "ppdb001", "risk_score": 70, "message": "Memory exhaustion predicted"}
    document = {
        "tick": 1, "generated_at": time.time(), "model": {"version": "m"},
        "summary": {"total_servers": 2, "critical": 0, "warning": 1, "degraded": 0, "healthy": 1,
                    "stale_servers": 0, "insufficient_history": 0},
        "predictions": {"ppdb001": served("warning"), "ppdb002": served("healthy")},
        "alerts": [alert], "insufficient_history": {},
    }
    cache.store_predictions(team_a.team.id, document, {"tick": 1, "count": 1, "alerts": [alert]})

    assert client.delete("/feed/servers/ppdb001", **team_a.headers).status_code == 200
    current = client.get("/predictions/current", **team_a.headers).json()
    assert list(current["predictions"]) == ["ppdb002"]
    assert current["alerts"] == []
    assert (current["summary"]["total_servers"], current["summary"]["warning"]) == (1, 0)
    assert client.get("/alerts/active", **team_a.headers).json()["alerts"] == []


def test_two_installations_sharing_a_redis_do_not_read_each_others_data(client, team_a, settings, redis_client):
    feed(client, team_a, make_batch(3))
    settings.ARGUS_REDIS_PREFIX = "staging"  # another installation, same database ids
    assert team_stats(team_a.team.id).points == 0
    feed(client, team_a, make_batch(2))
    assert team_stats(team_a.team.id).points == 2
    assert redis_client.exists(f"staging:{{{team_a.team.id}}}:meta")
    settings.ARGUS_REDIS_PREFIX = "argus"
    assert team_stats(team_a.team.id).points == 3
