"""GET /metrics: the Prometheus exposition, behind ARGUS_METRICS_TOKEN.

In-process tests (this process's own counters) check the token, the parse and that counters move
with traffic; the live ones check what only real processes show: several gunicorn workers
summed into one answer, and prediction runs done by a real Celery worker."""
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from core import keys
from core.local_redis import free_port
from inference import run_metrics
from inference.simulator import simulate_fleet
from tests.factories import make_batch, make_record
from tests.feeding import feed_frame, wait_for_predictions

TOKEN = "scrape-token-0123456789abcdef"
AUTH = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}


def parse(text: str) -> dict:
    """{(sample name, frozenset(labels)): value} of an exposition; raises if it does not parse."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples, name, default=0.0, **labels):
    return samples.get((name, frozenset(labels.items())), default)


@pytest.fixture
def scrape(client, settings, db):
    settings.ARGUS_METRICS_TOKEN = TOKEN

    def get():
        response = client.get("/metrics", **AUTH)
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("text/plain; version=0.0.4")
        return parse(response.content.decode())

    return get


def test_it_is_not_there_without_a_token_set(client, settings):
    settings.ARGUS_METRICS_TOKEN = ""
    response = client.get("/metrics", **AUTH)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found"}


@pytest.mark.parametrize("header", [None, "Bearer wrong-token-0123456789abcdef", f"Bearer {TOKEN}x", TOKEN,
                                    f"Basic {TOKEN}", "Bearer "])
def test_it_refuses_a_missing_or_wrong_token_with_401(client, settings, header):
    settings.ARGUS_METRICS_TOKEN = TOKEN
    response = client.get("/metrics", **({"HTTP_AUTHORIZATION": header} if header is not None else {}))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json() == {"detail": "Missing or wrong bearer token"}
    assert b"argus_" not in response.content


def test_an_api_key_is_not_a_metrics_token(client, settings, team_a):
    settings.ARGUS_METRICS_TOKEN = TOKEN
    assert client.get("/metrics", **team_a.headers).status_code == 401


def test_it_accepts_only_get(client, settings):
    settings.ARGUS_METRICS_TOKEN = TOKEN
    assert client.post("/metrics", **AUTH).status_code == 405


def test_request_counters_and_latency_move_with_traffic(client, scrape, team_a):
    before = scrape()
    for _ in range(3):
        assert client.get("/health").status_code == 200
    assert client.get("/no/such/path").status_code == 404
    after = scrape()
    moved = lambda name, **labels: value(after, name, **labels) - value(before, name, **labels)  # noqa: E731
    assert moved("argus_http_requests_total", endpoint="health", status="200") == 3
    assert moved("argus_http_requests_total", endpoint="unmatched", status="404") == 1
    assert moved("argus_http_request_duration_seconds_count", endpoint="health") == 3
    assert moved("argus_http_request_duration_seconds_bucket", endpoint="health", le="+Inf") == 3
    assert moved("argus_http_request_duration_seconds_sum", endpoint="health") > 0
    assert moved("argus_http_requests_total", endpoint="metrics", status="200") == 1  # the first scrape


def test_records_and_batches_are_counted_by_outcome_and_team(client, scrape, team_a, team_b):
    before = scrape()
    post = lambda tenant, body: client.post("/feed/data", body, format="json", **tenant.headers)  # noqa: E731
    assert post(team_a, {"records": make_batch(45)}).status_code == 200
    assert post(team_a, {"records": make_batch(45, timestamp="2025-01-15T10:05:00")}).status_code == 200
    assert post(team_b, {"records": make_batch(5)}).status_code == 200
    bad = make_batch(7)
    bad[3]["mem_used_pct"] = 140.0
    assert post(team_b, {"records": bad}).status_code == 422
    assert post(team_b, {"records": []}).status_code == 200
    assert client.post("/feed/data", b'{"records": [', content_type="application/json",
                       **team_b.headers).status_code == 400
    after = scrape()
    moved = lambda name, **labels: value(after, name, **labels) - value(before, name, **labels)  # noqa: E731
    assert moved("argus_feed_records_accepted_total") == 95
    assert moved("argus_feed_records_rejected_total", reason="invalid") == 7
    assert moved("argus_feed_records_rejected_total", reason="malformed") == 0  # no records to count
    assert moved("argus_feed_batches_total", team="team-a", result="warming_up") == 2  # 90 points of the 100
    assert moved("argus_feed_batches_total", team="team-b", result="warming_up") == 1
    assert moved("argus_feed_batches_total", team="team-b", result="invalid") == 1
    assert moved("argus_feed_batches_total", team="team-b", result="ignored") == 1
    assert moved("argus_feed_batches_total", team="team-b", result="malformed") == 1
    assert moved("argus_http_requests_total", endpoint="feed-data", status="422") == 1


def test_a_server_limit_refusal_is_counted_with_its_reason(client, scrape, team_a):
    team_a.team.max_servers = 3
    team_a.team.save()
    response = client.post("/feed/data", {"records": make_batch(4)}, format="json", **team_a.headers)
    assert response.status_code == 422
    samples = scrape()
    assert value(samples, "argus_feed_batches_total", team="team-a", result="server_limit") >= 1
    assert value(samples, "argus_feed_records_rejected_total", reason="server_limit") >= 4


def test_it_shows_no_api_key_server_name_or_metric_value(client, scrape, team_a):
    client.post("/feed/data", {"records": [make_record("secret-db-17", mem_used_pct=87.123)]}, format="json",
                **team_a.headers)
    text = client.get("/metrics", **AUTH).content.decode()
    assert "secret-db-17" not in text
    assert "87.123" not in text
    assert team_a.key not in text and team_a.key.partition(".")[0] not in text


def test_queue_depth_is_read_from_the_broker(client, scrape, team_a, redis_client):
    before = value(scrape(), "argus_queue_depth", default=None, queue="inference")
    assert before == 0
    # a warm batch (100 points or more) asks for a run: one task waits in the queue (no worker here)
    client.post("/feed/data", {"records": make_batch(120)}, format="json", **team_a.headers)
    samples = scrape()
    assert value(samples, "argus_queue_depth", queue="inference") == 1
    assert value(samples, "argus_queue_depth", default=None, queue="history") == 0


def test_a_redis_outage_is_counted_and_the_scrape_still_answers(client, scrape, team_a, settings):
    before = scrape()
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    response = client.post("/feed/data", {"records": make_batch(3)}, format="json", **team_a.headers)
    assert response.status_code == 503
    during = scrape()  # Redis-derived figures are missing, the process's own are there
    assert value(during, "argus_redis_errors_total", where="web") - value(before, "argus_redis_errors_total", where="web") >= 1
    assert value(during, "argus_redis_errors_total", where="scrape") > value(before, "argus_redis_errors_total", where="scrape")
    assert ("argus_runs_total", frozenset({("outcome", "stored")})) not in during


def test_runs_are_counted_in_redis_with_their_duration_and_servers(scrape, redis_client):
    run_metrics.record_run("stored", 1.7, servers=45)
    run_metrics.record_run("superseded", 0.3, servers=1000, shards=8)  # a sharded run
    run_metrics.record_run("failed", 12.0)
    samples = scrape()
    assert value(samples, "argus_runs_total", outcome="stored") == 1
    assert value(samples, "argus_runs_total", outcome="superseded") == 1
    assert value(samples, "argus_runs_total", outcome="failed") == 1
    assert value(samples, "argus_runs_total", default=None, outcome="empty") == 0
    assert value(samples, "argus_run_shards_total") == 10
    assert value(samples, "argus_run_duration_seconds_count") == 3
    assert value(samples, "argus_run_duration_seconds_sum") == pytest.approx(14.0)
    assert value(samples, "argus_run_duration_seconds_bucket", le="0.5") == 1
    assert value(samples, "argus_run_duration_seconds_bucket", le="2.5") == 2
    assert value(samples, "argus_run_duration_seconds_bucket", le="+Inf") == 3
    assert value(samples, "argus_run_servers_count") == 2
    assert value(samples, "argus_run_servers_sum") == 1045
    assert value(samples, "argus_run_servers_bucket", le="50.0") == 1
    assert value(samples, "argus_run_servers_bucket", le="1000.0") == 2


def test_a_run_counted_while_redis_is_down_is_written_once_it_answers(scrape, settings):
    url = settings.REDIS_URL
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    run_metrics.record_run("redis_unavailable", 2.0)
    settings.REDIS_URL = url
    run_metrics.record_run("stored", 1.0, servers=10)
    samples = scrape()
    assert value(samples, "argus_runs_total", outcome="redis_unavailable") == 1
    assert value(samples, "argus_runs_total", outcome="stored") == 1
    assert value(samples, "argus_run_shards_total") == 2


def test_run_outcomes_are_read_from_the_task_result():
    import redis

    assert run_metrics.outcome_of("SUCCESS", {"servers": 45, "stored": True}) == "stored"
    assert run_metrics.outcome_of("SUCCESS", {"servers": 45, "stored": False}) == "superseded"
    assert run_metrics.outcome_of("SUCCESS", {"tick": 3, "servers": 0, "stored": False}) == "empty"
    assert run_metrics.outcome_of("FAILURE", ValueError("bad")) == "failed"
    assert run_metrics.outcome_of("FAILURE", redis.ConnectionError("down")) == "redis_unavailable"


def test_each_teams_prediction_age_and_model_are_read_from_its_cached_document(scrape, team_a, team_b, redis_client):
    redis_client.hset(keys.team(team_a.team.id).predictions_meta,
                      mapping={"tick": 3, "generated_at": time.time() - 42, "model": "tft-test-1", "runs": 1})
    samples = scrape()
    assert value(samples, "argus_team_prediction_age_seconds", team="team-a") == pytest.approx(42, abs=5)
    assert value(samples, "argus_team_model_info", team="team-a", version="tft-test-1") == 1
    # team-b has no predictions yet: no age (rather than a made-up one)
    assert not any(name == "argus_team_prediction_age_seconds" and ("team", "team-b") in labels
                   for name, labels in samples)


# --- live: real gunicorn workers and a real Celery worker -----------------------------------------

def test_several_gunicorn_workers_answer_with_the_same_totals(live_stack, tmp_path):
    """Requests spread over two gunicorn worker processes; every scrape, whichever worker
    answers it, counts all of them (multiprocess mode)."""
    metrics_dir = tmp_path / "prometheus"
    key = live_stack.create_key("multi")
    # one thread per worker, so that concurrent requests spread over both processes
    url = live_stack.start_web(workers=2, ARGUS_METRICS_TOKEN=TOKEN, PROMETHEUS_MULTIPROC_DIR=metrics_dir,
                               ARGUS_RATE_FEED="100000/min", ARGUS_WEB_THREADS=1)
    start = datetime(2025, 1, 15, 10)
    batches = [make_batch(45, timestamp=(start + timedelta(minutes=5 * i)).isoformat()) for i in range(240)]

    def post(records):
        return requests.post(url + "/feed/data", json={"records": records}, headers={"X-API-Key": key},
                             timeout=30).status_code

    sent = 0
    with ThreadPoolExecutor(8) as pool:  # rounds of 40 until both workers served some (the kernel picks)
        while sent < 40 or (sorted(feed_requests_per_file(metrics_dir)) != [1, 1] and sent < len(batches)):
            assert set(pool.map(post, batches[sent:sent + 40])) == {200}
            sent += 40
    assert sorted(feed_requests_per_file(metrics_dir)) == [1, 1], "both workers should have served some"
    for _ in range(6):  # scrapes land on either worker
        response = requests.get(url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
        assert response.status_code == 200
        samples = parse(response.text)
        assert value(samples, "argus_http_requests_total", endpoint="feed-data", status="200") == sent
        assert value(samples, "argus_feed_records_accepted_total") == sent * 45
        assert value(samples, "argus_feed_batches_total", team="multi", result="accepted") \
            + value(samples, "argus_feed_batches_total", team="multi", result="warming_up") == sent
    assert requests.get(url + "/metrics", headers={"Authorization": "Bearer nope"}, timeout=30).status_code == 401


def feed_requests_per_file(metrics_dir):
    """[1 for each worker's counter file that counted feed requests]: who served what."""
    from prometheus_client.multiprocess import MultiProcessCollector

    served = []
    for path in sorted(Path(metrics_dir).glob("counter_*.db")):
        for family in MultiProcessCollector.merge([str(path)]):
            if any(s.name == "argus_http_requests_total" and s.labels.get("endpoint") == "feed-data" and s.value
                   for s in family.samples):
                served.append(1)
    return served


def test_a_real_workers_runs_show_up_in_the_scrape(live_stack):
    key = live_stack.create_key("ran")
    url = live_stack.start_web(ARGUS_METRICS_TOKEN=TOKEN, ARGUS_RATE_FEED="100000/min",
                               ARGUS_RATE_READ="100000/min")
    live_stack.start_worker()
    records, _ = simulate_fleet(20, days=0.1, seed=5)
    tick = feed_frame(url, key, records, ticks_per_request=12)
    document = wait_for_predictions(url, key, tick, timeout=120)
    deadline = time.monotonic() + 30
    while True:  # the run's counters are written just after its document
        samples = parse(requests.get(url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30).text)
        if value(samples, "argus_runs_total", outcome="stored") >= 1 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert value(samples, "argus_runs_total", outcome="stored") >= 1
    runs = sum(value(samples, "argus_runs_total", outcome=o) for o in run_metrics.OUTCOMES)
    assert value(samples, "argus_run_shards_total") == runs
    assert value(samples, "argus_run_duration_seconds_count") == runs
    assert value(samples, "argus_run_duration_seconds_sum") > 0
    assert value(samples, "argus_run_servers_sum") >= 20  # the last run forecast all 20
    assert value(samples, "argus_runs_total", outcome="failed") == 0
    assert value(samples, "argus_team_prediction_age_seconds", default=None, team="ran") < 60
    assert value(samples, "argus_team_model_info", team="ran", version=document["model"]["version"]) == 1


def test_the_grafana_dashboard_reads_only_metrics_that_exist(scrape, client):
    """docs/grafana-argus.json: valid JSON, and every argus_* series it queries is one /metrics
    serves (declared: a labelled counter has no sample before its first event)."""
    import json
    import re

    dashboard = json.loads((Path(__file__).resolve().parent.parent / "docs" / "grafana-argus.json").read_text())
    text = client.get("/metrics", **AUTH).content.decode()
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"]}
    served = {family.name + suffix for family in text_string_to_metric_families(text)
              for suffix in suffixes.get(family.type, [""])}
    queried = {name for panel in dashboard["panels"] for target in panel["targets"]
               for name in re.findall(r"\bargus_[a-z_]+", target["expr"])}
    assert len(queried) >= 12
    assert queried - served == set()
