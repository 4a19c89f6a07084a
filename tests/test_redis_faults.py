"""Redis faults: clear 503s while it is gone, recovery without a restart, no partial batch."""
import json
import socket
import threading

import pytest
import requests

from core.local_redis import free_port, start_redis_server
from feeds.windows import read_windows, team_stats
from tests.factories import make_batch


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server this test may stop and restart (the shared one stays up)."""
    port = free_port()
    server = {"process": start_redis_server(port, tmp_path / "redis")}

    def stop():
        server["process"].terminate()
        server["process"].wait(10)

    def restart():
        server["process"] = start_redis_server(port, tmp_path / "redis")

    yield f"redis://127.0.0.1:{port}/0", stop, restart
    stop()


@pytest.mark.slow
def test_an_outage_gives_503s_and_the_service_resumes_when_redis_returns(tmp_path, own_redis):
    from tests.live import LiveStack

    url, stop_redis, restart_redis = own_redis
    stack = LiveStack(tmp_path, url)
    try:
        key = stack.create_key("ops")
        base = stack.start_web(workers=1)
        headers = {"X-API-Key": key}
        feed = lambda: requests.post(base + "/feed/data", json={"records": make_batch(3)}, headers=headers, timeout=30)
        assert feed().status_code == 200

        stop_redis()
        for response in (feed(), requests.get(base + "/status", headers=headers, timeout=30)):
            assert response.status_code == 503
            assert response.headers["Retry-After"] == "5"
            assert response.json() == {"detail": "Storage unavailable: Redis is unreachable. "
                                                 "Nothing was stored; retry shortly."}
        health = requests.get(base + "/health", timeout=30)
        assert (health.status_code, health.json()["redis_reachable"]) == (503, False)
        public = requests.get(base + "/status", timeout=30)
        assert (public.status_code, public.json()["redis_reachable"]) == (200, False)

        restart_redis()  # an empty Redis: this one keeps nothing on disk
        accepted = feed()
        assert accepted.status_code == 200
        assert accepted.json()["tick"] == 1
        assert requests.get(base + "/health", timeout=30).status_code == 200
    finally:
        stack.stop()


class CuttingProxy:
    """A TCP proxy to Redis that passes traffic through until the client sends bytes
    containing `marker`; then it forwards only the first half of them and drops the
    connection, as a network failure in the middle of a write would."""

    def __init__(self, target_port, marker):
        self.target_port, self.marker = target_port, marker
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.cuts = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def _pipe(self, source, sink, from_client):
        try:
            while data := source.recv(65536):
                if from_client and self.marker in data:
                    self.cuts += 1
                    sink.sendall(data[: len(data) // 2])
                    break
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self):
        self.listener.close()


def test_a_batch_cut_off_mid_write_leaves_nothing(client, team_a, settings, redis_url, redis_client):
    port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
    proxy = CuttingProxy(port, marker=b"ppcut")
    settings.REDIS_URL = f"redis://127.0.0.1:{proxy.port}/0"
    try:
        records = make_batch(40) + [dict(make_batch(1)[0], server_name=f"ppcut{i:03d}") for i in range(40)]
        response = client.post("/feed/data", json.dumps({"records": records}),
                               content_type="application/json", **team_a.headers)
        assert response.status_code == 503
        assert proxy.cuts >= 1
    finally:
        proxy.close()
        settings.REDIS_URL = redis_url
    assert list(redis_client.scan_iter(f"argus:{{{team_a.team.id}}}:w:*")) == []
    assert team_stats(team_a.team.id).points == 0 and read_windows(team_a.team.id).windows == {}


@pytest.fixture
def own_redis_client(own_redis, settings):
    """This process's requests go to a redis-server the test may make busy or full."""
    import redis

    url, _, _ = own_redis
    settings.REDIS_URL = url
    return redis.Redis.from_url(url)


def test_a_full_redis_gives_503_with_retry_after_not_500(client, team_a, own_redis_client):
    own_redis_client.config_set("maxmemory-policy", "noeviction")
    own_redis_client.config_set("maxmemory", 1)  # any write is now refused with OOM
    try:
        response = client.post("/feed/data", json.dumps({"records": make_batch(3)}),
                               content_type="application/json", **team_a.headers)
    finally:
        own_redis_client.config_set("maxmemory", 0)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "Nothing was stored" in response.json()["detail"]
    assert team_stats(team_a.team.id).points == 0


def test_a_redis_busy_running_a_script_gives_503_with_retry_after_not_500(client, team_a, own_redis_client):
    import redis

    own_redis_client.config_set("busy-reply-threshold", 50)  # ms before others get BUSY
    spin = "local t0 = redis.call('TIME')[1] while redis.call('TIME')[1] - t0 < 3 do end return 1"
    other_connection = redis.Redis(port=own_redis_client.connection_pool.connection_kwargs["port"])
    spinner = threading.Thread(target=lambda: other_connection.eval(spin, 0))
    spinner.start()
    try:
        while True:  # until the script has run past the threshold
            try:
                own_redis_client.ping()
            except redis.ResponseError as exc:
                assert str(exc).startswith("BUSY")
                break
        feed = client.post("/feed/data", json.dumps({"records": make_batch(3)}),
                           content_type="application/json", **team_a.headers)
        health = client.get("/health")
    finally:
        spinner.join()
    assert (feed.status_code, feed.headers["Retry-After"]) == (503, "5")
    assert (health.status_code, health.json()["redis_reachable"]) == (503, False)
