"""manage.py feed_from_prometheus: node_exporter's figures, through a real Prometheus, into a real
Argus web process. The rules for turning answers into records are checked on their own first."""
import logging
import socket
import subprocess
import sys
import time
from datetime import datetime, timezone

import pytest
import requests

from core.local_redis import free_port
from feeds.prometheus_bridge.loop import Bridge
from feeds.prometheus_bridge.posting import Poster, retry_wait
from feeds.prometheus_bridge.prometheus import Prometheus
from feeds.prometheus_bridge.queries import build_queries, build_records, server_names
from feeds.schema import METRICS, SLOT_SECONDS, STATUSES
from tests.live import ROOT
from tests.prometheus_stack import PrometheusStack

# --- the rules -----------------------------------------------------------------------------------


def answers_for(instance, **overrides):
    """Prometheus's answers for one healthy instance, as {query name: {instance: value}}."""
    values = {"up": 1, "cpus": 2, "cpu_user_pct": 20.0, "cpu_sys_pct": 5.0, "cpu_iowait_pct": 1.0,
              "cpu_idle_pct": 74.0, "mem_used_pct": 61.234, "swap_used_pct": 3.0, "disk_usage_pct": 40.0,
              "net_in_mb_s": 0.12345, "net_out_mb_s": 0.5, "back_close_wait": 3.0, "load_average": 0.7,
              "uptime_days": 12.9, **overrides}
    return {name: {instance: v} for name, v in values.items() if v is not None}


def merge(*answer_sets):
    merged = {}
    for answers in answer_sets:
        for name, by_instance in answers.items():
            merged.setdefault(name, {}).update(by_instance)
    return merged


def test_a_healthy_instance_becomes_one_record_with_the_seventeen_fields():
    tick = build_records(answers_for("10.0.0.5:9100"), "2025-01-15T10:00:00", {})
    [record] = tick.records
    assert set(record) == {"timestamp", "server_name", "status", *METRICS}
    assert len(record) == 17
    assert record["server_name"] == "10.0.0.5"
    assert record["status"] == "healthy"
    assert record["mem_used_pct"] == 61.23
    assert record["uptime_days"] == 12 and record["back_close_wait"] == 3
    assert record["java_cpu_pct"] == 0 and record["front_close_wait"] == 0  # no query for them
    assert tick.skipped == {}


def test_missing_optional_series_are_zero_and_missing_required_ones_skip_the_instance():
    optional_missing = answers_for("a:9100", swap_used_pct=None, back_close_wait=None)
    required_missing = answers_for("b:9100", mem_used_pct=None, load_average=None)
    tick = build_records(merge(optional_missing, required_missing), "2025-01-15T10:00:00", {})
    assert [r["server_name"] for r in tick.records] == ["a"]
    assert tick.records[0]["swap_used_pct"] == 0 and tick.records[0]["back_close_wait"] == 0
    assert tick.skipped == {"b:9100": ["mem_used_pct", "load_average"]}


def test_values_are_held_to_the_contracts_ranges():
    tick = build_records(answers_for("a:1", cpu_idle_pct=100.4, uptime_days=900.0, net_in_mb_s=-0.0001,
                                     cpu_user_pct=-0.01), "2025-01-15T10:00:00", {})
    record = tick.records[0]
    assert record["cpu_idle_pct"] == 100.0 and record["cpu_user_pct"] == 0.0
    assert record["uptime_days"] == 365 and record["net_in_mb_s"] == 0.0


@pytest.mark.parametrize("overrides, previous, status", [
    ({}, None, "healthy"),
    ({"mem_used_pct": 96.0}, None, "critical_issue"),
    ({"disk_usage_pct": 91.0}, None, "critical_issue"),
    ({"cpu_idle_pct": 4.0}, None, "critical_issue"),
    ({"back_close_wait": 800.0}, None, "critical_issue"),
    ({}, "critical_issue", "recovery"),
    ({}, "offline", "recovery"),
    ({"cpu_idle_pct": 15.0}, None, "heavy_load"),
    ({"load_average": 2.5}, None, "heavy_load"),  # above its 2 CPUs
    ({"cpu_idle_pct": 95.0}, None, "idle"),
    ({"cpu_idle_pct": 95.0}, "healthy", "idle"),
])
def test_status_is_derived_from_the_figures(overrides, previous, status):
    state = {"a:1": {"status": previous}} if previous else {}
    assert build_records(answers_for("a:1", **overrides), "2025-01-15T10:00:00", state).records[0]["status"] == status
    assert status in STATUSES


def test_an_instance_that_is_down_is_posted_offline_with_what_it_last_held():
    state = {}
    build_records(answers_for("a:1", mem_used_pct=70.0, disk_usage_pct=55.0), "2025-01-15T10:00:00", state)
    down = {"up": {"a:1": 0.0}}  # Prometheus marks a failed target's series stale at once
    [record] = build_records(down, "2025-01-15T10:05:00", state).records
    assert record["status"] == "offline"
    assert record["mem_used_pct"] == 70.0 and record["disk_usage_pct"] == 55.0
    assert record["cpu_idle_pct"] == 100.0 and record["load_average"] == 0 and record["uptime_days"] == 0
    # next tick it is back: recovery
    assert build_records(answers_for("a:1"), "2025-01-15T10:10:00", state).records[0]["status"] == "recovery"


def test_server_names_are_the_host_part_of_the_instance_unless_two_share_a_host():
    assert server_names(["10.0.0.5:9100", "web01.example.com:9100", "[::1]:9100", "bare-host"]) == {
        "10.0.0.5:9100": "10.0.0.5", "web01.example.com:9100": "web01.example.com", "[::1]:9100": "::1",
        "bare-host": "bare-host"}
    assert server_names(["db:9100", "db:9101", "web:9100"]) == {"db:9100": "db:9100", "db:9101": "db:9101",
                                                                "web:9100": "web"}


def test_the_match_selector_goes_into_every_query_and_must_be_in_braces():
    queries = build_queries('{job="node", env="prod"}', java_cpu_query='sum by (instance) (java_cpu{job="jvm"})')
    assert queries["up"] == 'up{job="node", env="prod"}'
    assert 'node_cpu_seconds_total{job="node", env="prod",mode=~"user|nice"}[5m]' in queries["cpu_user_pct"]
    assert 'device!="lo"' in queries["net_in_mb_s"] and 'mountpoint="/"' in queries["disk_usage_pct"]
    assert queries["java_cpu_pct"] == 'sum by (instance) (java_cpu{job="jvm"})'
    assert "java_cpu_pct" not in build_queries()
    with pytest.raises(ValueError, match="in braces"):
        build_queries('job="node"')


@pytest.mark.parametrize("status, retry_after, attempt, wait", [
    (503, None, 0, 1.0), (502, None, 3, 8.0), (500, None, 10, 60.0), (None, None, 1, 2.0),
    (429, "7", 0, 7.0), (503, "2", 5, 2.0), (429, "soon", 2, 4.0),
    (422, None, 0, None), (401, None, 0, None), (413, "5", 0, None),
])
def test_only_server_errors_throttling_and_lost_connections_are_retried(status, retry_after, attempt, wait):
    assert retry_wait(status, retry_after, attempt) == wait


def test_a_retry_after_date_is_honoured():
    from email.utils import formatdate

    assert 8 <= retry_wait(429, formatdate(time.time() + 10, usegmt=True), 0) <= 10


# --- end to end: real node_exporter, Prometheus and Argus -----------------------------------------

RATE_SECONDS = 6
RATE_WINDOW = f"{RATE_SECONDS}s"

@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    """Job `node`: the real node_exporter and a target where nothing listens (up == 0). The
    bridge's rates run over RATE_WINDOW here (5m in production), so that a few seconds of
    one-second scrapes fill it: rate() over a range the data does not cover yet reads low."""
    started = time.monotonic()
    leaked = close_wait_sockets(3)
    stack = PrometheusStack(tmp_path_factory.mktemp("prometheus"), more_node_targets=[f"localhost:{free_port()}"])
    stack.wait_for_rates()
    time.sleep(max(0.0, started + RATE_SECONDS + 3 - time.monotonic()))
    yield stack
    stack.stop()
    for sock in leaked:
        sock.close()


def close_wait_sockets(count):
    """`count` accepted sockets whose peers hung up and which were never closed: CLOSE_WAIT, the
    state a connection leak piles up."""
    listener = socket.create_server(("127.0.0.1", 0))
    leaked = []
    for _ in range(count):
        client = socket.create_connection(listener.getsockname())
        accepted, _ = listener.accept()
        client.close()  # its FIN puts `accepted` in CLOSE_WAIT
        leaked.append(accepted)
    listener.close()
    return leaked


def wait_clear_of_a_slot_boundary(margin=20):
    """So that a test's posts all fall in one 5-minute slot."""
    into = time.time() % SLOT_SECONDS
    if into > SLOT_SECONDS - margin:
        time.sleep(SLOT_SECONDS - into + 0.5)


def current_slot():
    now = time.time()
    return datetime.fromtimestamp(now - now % SLOT_SECONDS, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def stored_point(base, key, server, slot):
    """The point Argus stored for `server` in `slot` (the history endpoint, once archived)."""
    response = requests.get(f"{base}/history/servers/{server}", params={"start": slot}, headers={"X-API-Key": key},
                            timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    index = body["timestamps"].index(slot)
    return {"status": body["status"][index], **{m: body["metrics"][m][index] for m in METRICS}}


def test_the_bridge_feeds_node_exporters_figures_through_prometheus_into_argus(prometheus, live_stack):
    key = live_stack.create_key("nodes")
    url = live_stack.start_web()
    wait_clear_of_a_slot_boundary()
    truth_before = prometheus.exporter_metrics()
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "feed_from_prometheus", "--prometheus", prometheus.url,
         "--url", url, "--key", key, "--match", '{job="node"}', "--rate-window", RATE_WINDOW, "--once"],
        env=live_stack.env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    truth_after = prometheus.exporter_metrics()
    assert result.returncode == 0, result.stderr
    assert "posted 2 servers (0 skipped)" in result.stderr
    assert "skipped" not in result.stderr.replace("(0 skipped)", "")  # --match left the `prometheus` job out

    live_stack.manage("archive_history")
    slot = current_slot()
    node = stored_point(url, key, "127.0.0.1", slot)

    def truth(name, **labels):
        both = [t.get((name, frozenset(labels.items()))) for t in (truth_before, truth_after)]
        assert None not in both, f"node_exporter reports no {name}{labels}"
        return both

    available, total = truth("node_memory_MemAvailable_bytes"), truth("node_memory_MemTotal_bytes")
    mem = sorted(100 * (1 - a / t) for a, t in zip(available, total))
    assert mem[0] - 2 <= node["mem_used_pct"] <= mem[1] + 2
    root = {"mountpoint": "/"}
    fs = [(a, s) for a, s in zip(truth_filesystem(truth_before, "avail", root), truth_filesystem(truth_after, "avail", root))]
    disk = sorted(100 * (1 - a / s) for (a, _), s in zip(fs, truth_filesystem(truth_after, "size", root)))
    assert disk[0] - 1 <= node["disk_usage_pct"] <= disk[-1] + 1
    load = sorted(truth("node_load1"))
    assert load[0] - 0.5 <= node["load_average"] <= load[1] + 0.5
    boot = truth("node_boot_time_seconds")[0]
    assert node["uptime_days"] == min(365, int((truth("node_time_seconds")[1] - boot) // 86400))
    cpu = [node[m] for m in ("cpu_user_pct", "cpu_sys_pct", "cpu_iowait_pct", "cpu_idle_pct")]
    steal = 100 * (truth("node_cpu_seconds_total", cpu="0", mode="steal")[1] > 0)  # a VM may lose any share to steal
    assert all(0 <= v <= 100 for v in cpu) and 97 - steal <= sum(cpu) <= 100.5
    assert node["net_in_mb_s"] >= 0 and node["net_out_mb_s"] >= 0
    close_wait = truth("node_tcp_connection_states", state="close_wait")  # the fixture's 3 and any others
    assert min(close_wait) >= 3 and min(close_wait) - 5 <= node["back_close_wait"] <= max(close_wait) + 5
    assert node["front_close_wait"] == 0 and node["java_cpu_pct"] == 0
    assert node["status"] in STATUSES and node["status"] != "offline"

    down = stored_point(url, key, "localhost", slot)
    assert down["status"] == "offline"
    assert down["cpu_idle_pct"] == 100 and down["load_average"] == 0


def truth_filesystem(samples, kind, labels):
    """node_filesystem_<kind>_bytes of the filesystem mounted at labels' mountpoint."""
    found = [v for (name, ls), v in samples.items()
             if name == f"node_filesystem_{kind}_bytes" and set(labels.items()) <= ls]
    assert found, f"node_exporter reports no {kind} for {labels}"
    return found[:1]


def test_each_tick_is_posted_once_and_a_429_is_retried_after_its_retry_after(prometheus, live_stack, caplog):
    key = live_stack.create_key("ticks")
    url = live_stack.start_web(ARGUS_RATE_FEED="1/sec")
    wait_clear_of_a_slot_boundary()
    # the key's one request of this second is spent: the bridge's first post gets 429, Retry-After 1
    assert requests.post(url + "/feed/data", json={"records": []}, headers={"X-API-Key": key}, timeout=30).status_code == 200
    bridge = Bridge(Prometheus(prometheus.url), Poster(url, key), build_queries('{job="node"}', RATE_WINDOW), every=1)
    with caplog.at_level(logging.INFO, logger="argus.bridge"):
        bridge.run(checks=4)  # four checks in one slot
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("HTTP 429") and "retrying in 1.0s" in m for m in messages), messages
    assert sum("posted 2 servers" in m for m in messages) == 1, messages
    status = requests.get(url + "/status", headers={"X-API-Key": key}, timeout=30).json()
    assert status["tick_count"] == 1  # one batch stored (the empty one was ignored)
    assert status["servers_tracked"] == 2


def test_instances_without_node_series_are_skipped_and_logged(prometheus, live_stack, caplog):
    key = live_stack.create_key("skips")
    url = live_stack.start_web()
    bridge = Bridge(Prometheus(prometheus.url), Poster(url, key), build_queries(rate_window=RATE_WINDOW))  # no --match: every job
    with caplog.at_level(logging.INFO, logger="argus.bridge"):
        assert bridge.tick()["records_received"] == 2
    messages = [r.getMessage() for r in caplog.records]
    assert f"skipped instance 127.0.0.1:{prometheus.port}: no series for cpu_user_pct, cpu_sys_pct, cpu_iowait_pct, " \
           "cpu_idle_pct, mem_used_pct, disk_usage_pct, net_in_mb_s, net_out_mb_s, load_average, uptime_days" in messages
    assert any("posted 2 servers (1 skipped)" in m for m in messages), messages


def test_without_the_binaries_the_test_fails_and_says_what_to_install(monkeypatch):
    from tests import prometheus_stack

    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(prometheus_stack.os.path, "exists", lambda path: False)
    with pytest.raises(AssertionError, match="apt-get install -y prometheus prometheus-node-exporter"):
        prometheus_stack.binary("prometheus")
