"""GET /history/export.csv: every stored point of a range as CSV, streamed, in the feed contract's
shape, so that it can be fed back."""
import csv
import io
import json

import numpy as np
import pytest

from feeds.schema import METRICS, STATUSES
from tests.factories import data_time, make_batch, make_record
from tests.history_helpers import feed, feed_and_archive

pytestmark = pytest.mark.django_db

# The seed guide's field table, in its order.
CONTRACT_COLUMNS = [
    "timestamp", "server_name", "status", "cpu_user_pct", "cpu_sys_pct", "cpu_iowait_pct", "cpu_idle_pct",
    "java_cpu_pct", "mem_used_pct", "swap_used_pct", "disk_usage_pct", "net_in_mb_s", "net_out_mb_s",
    "back_close_wait", "front_close_wait", "load_average", "uptime_days",
]


def export(client, tenant, **params):
    response = client.get("/history/export.csv", params, **tenant.headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def as_records(body: bytes) -> list:
    """The CSV's rows as /feed/data records, read as any client would: numbers as JSON numbers."""
    def number(text):
        try:
            return int(text)
        except ValueError:
            return float(text)

    rows = list(csv.DictReader(io.StringIO(body.decode())))
    return [{k: v if k in ("timestamp", "server_name", "status") else number(v) for k, v in row.items()} for row in rows]


def span(days=3):
    return {"start": data_time(days_ago=days, hours_ago=1), "end": data_time(minutes_ago=-5)}


def test_it_streams_a_header_in_the_contracts_order_then_one_row_per_point(client, team_a):
    when = data_time(days_ago=3)
    feed_and_archive(client, team_a, [make_record("ppdb001", when, cpu_user_pct=12.34, back_close_wait=7)])
    response, body = export(client, team_a, **span())
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="argus-history-team-a-')
    header, row = body.decode().splitlines()
    assert header.split(",") == CONTRACT_COLUMNS
    assert row == f"{when}Z,ppdb001,healthy,12.34,8.2,2.1,64.4,15.5,72.1,5.2,45.8,12.5,8.3,7,3,2.4,45"


def test_rows_are_ordered_by_server_then_time_within_the_range(client, team_a):
    times = [data_time(days_ago=2, minutes_ago=-5 * k) for k in range(3)]
    feed_and_archive(client, team_a, [make_record(name, t) for t in reversed(times) for name in ("b", "a", "B")])
    feed_and_archive(client, team_a, [make_record("a", data_time(days_ago=5))])  # before the range
    _, body = export(client, team_a, start=times[0], end=data_time())
    keys = [(r["server_name"], r["timestamp"]) for r in as_records(body)]
    assert keys == [(name, t + "Z") for name in ("B", "a", "b") for t in times]


def test_servers_selects_whose_points(client, team_a):
    feed_and_archive(client, team_a, make_batch(3, data_time(days_ago=1)))
    _, body = export(client, team_a, servers="ppdb003,ppdb001", **span())
    assert [r["server_name"] for r in as_records(body)] == ["ppdb001", "ppdb003"]


def test_an_export_fed_back_to_a_new_team_exports_byte_identical(client, team_a, team_b, settings):
    settings.ARGUS_RATE_FEED = "1000/min"
    rng = np.random.default_rng(15)
    records = []
    for k in range(3 * 288 - 12):  # three days up to an hour ago, every 5 minutes
        when = data_time(days_ago=3, minutes_ago=-5 * k)
        for name in ("ppdb001", 'web,"edge"', "ppml-ü"):
            record = make_record(name, when, status=STATUSES[int(rng.integers(len(STATUSES)))])
            for m in METRICS:
                if m in ("back_close_wait", "front_close_wait", "uptime_days"):
                    record[m] = int(rng.integers(0, 366))
                else:  # full float64 precision: stored as float32
                    record[m] = float(rng.uniform(0, 100))
            records.append(record)
    for i in range(0, len(records), 600):
        feed(client, team_a, records[i:i + 600])
    feed_and_archive(client, team_a, [])
    _, original = export(client, team_a, **span(4))
    assert len(as_records(original)) == len(records)

    replayed = as_records(original)
    for i in range(0, len(replayed), 600):
        feed(client, team_b, replayed[i:i + 600])
    feed_and_archive(client, team_b, [])
    _, again = export(client, team_b, **span(4))
    assert again == original


def test_each_team_exports_only_its_own_points(client, team_a, team_b):
    feed_and_archive(client, team_a, [make_record("ppdb001", data_time(days_ago=1))])
    feed_and_archive(client, team_b, [make_record("ppdb777", data_time(days_ago=1))])
    _, body = export(client, team_b, **span())
    assert [r["server_name"] for r in as_records(body)] == ["ppdb777"]
    response, _ = export(client, team_b, servers="ppdb001", **span())
    assert response.status_code == 404
    assert json.loads(response.content) == {"detail": "No history for server 'ppdb001' in this team"}


def test_bad_parameters_are_400s_naming_them(client, team_a):
    response, _ = export(client, team_a, start="2025-01-10", end="2025-01-01")
    assert (response.status_code, response.json()) == (400, {"detail": "end: 2025-01-01T00:00:00Z is before start 2025-01-10T00:00:00Z"})
    response, _ = export(client, team_a, start="2025-01-01", end="2025-03-01")
    assert response.status_code == 400 and response.json()["detail"].startswith("end: the range from start is 59 days")
    response, _ = export(client, team_a, servers=",")
    assert (response.status_code, response.json()) == (400, {"detail": "servers: no server name given"})


def test_a_client_asking_for_csv_gets_it_and_its_errors_as_json(client, team_a):
    feed_and_archive(client, team_a, [make_record("ppdb001", data_time(days_ago=1))])
    response = client.get("/history/export.csv", span(), HTTP_ACCEPT="text/csv", **team_a.headers)
    assert response.status_code == 200 and b"".join(response.streaming_content).count(b"\n") == 2
    response = client.get("/history/export.csv", {"start": "soon"}, HTTP_ACCEPT="text/csv", **team_a.headers)
    assert response.status_code == 400 and json.loads(response.content)["detail"].startswith("start: 'soon'")


def test_it_needs_a_key(client):
    assert client.get("/history/export.csv").status_code == 401


def test_redis_unreachable_is_a_503(client, team_a, settings):
    from core.local_redis import free_port

    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    response, _ = export(client, team_a)
    assert (response.status_code, response["Retry-After"]) == (503, "5")
