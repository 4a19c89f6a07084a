"""POST /feed/data: the contract's responses, every validation rule, and how windows are kept."""
import json

import numpy as np
import pytest

from core import keys
from feeds.schema import METRICS
from feeds.records import validate_batch
from feeds.windows import append_batch, read_windows, team_stats
from tests.factories import make_batch, make_record

SEED_GUIDE_CURL_BODY = (
    '{"records": [{"timestamp": "2025-01-15T10:00:00", "server_name": "test001", "status": "healthy", '
    '"cpu_user_pct": 25, "cpu_sys_pct": 5, "cpu_iowait_pct": 2, "cpu_idle_pct": 68, "java_cpu_pct": 10, '
    '"mem_used_pct": 60, "swap_used_pct": 0, "disk_usage_pct": 40, "net_in_mb_s": 5, "net_out_mb_s": 3, '
    '"back_close_wait": 0, "front_close_wait": 0, "load_average": 1.5, "uptime_days": 30}]}'
)


def post(client, tenant, records=None, body=None):
    body = body if body is not None else json.dumps({"records": records})
    return client.post("/feed/data", body, content_type="application/json", **tenant.headers)


def stored_slots(tenant, server):
    return list(read_windows(tenant.team.id).windows.get(server, np.array([], dtype=[("slot", "u4")]))["slot"])


def assert_nothing_stored(tenant, redis_client):
    assert team_stats(tenant.team.id).points == 0
    assert list(redis_client.scan_iter(f"argus:{{{tenant.team.id}}}:w:*")) == []
    assert redis_client.hget(f"argus:{{{tenant.team.id}}}:meta", "tick") is None


# --- the contract's responses --------------------------------------------------------------

def test_the_seed_guides_curl_example_gets_the_documented_warming_up_response(client, team_a):
    response = post(client, team_a, body=SEED_GUIDE_CURL_BODY)
    assert response.status_code == 200
    assert response.json() == {
        "status": "warming_up", "records_received": 1, "tick": 1, "rolling_window_size": 1,
        "warmup_complete": False, "progress": "1% (need 100 records minimum)",
    }


def test_it_reports_warm_up_progress_then_accepts_once_100_points_are_held(client, team_a):
    first = post(client, team_a, make_batch(45, "2025-01-15T10:00:00")).json()
    assert first["progress"] == "45% (need 100 records minimum)"
    second = post(client, team_a, make_batch(45, "2025-01-15T10:05:00")).json()
    assert (second["status"], second["tick"], second["rolling_window_size"]) == ("warming_up", 2, 90)
    third = post(client, team_a, make_batch(45, "2025-01-15T10:10:00")).json()
    assert third == {"status": "accepted", "records_received": 45, "tick": 3,
                     "rolling_window_size": 135, "warmup_complete": True}


def test_it_ignores_an_empty_batch_and_counts_no_tick(client, team_a, redis_client):
    response = post(client, team_a, [])
    assert response.status_code == 200
    assert response.json() == {"status": "ignored", "reason": "empty batch"}
    assert_nothing_stored(team_a, redis_client)


def test_it_stores_every_metric_of_a_record(client, team_a):
    record = make_record("ppml007", "2025-01-15T10:02:31Z", status="heavy_load")
    post(client, team_a, [record])
    [stored] = read_windows(team_a.team.id).windows["ppml007"]
    assert stored["slot"] == 1736935200 // 300  # 10:02:31 floored to the 10:00 slot
    assert stored["status"] == 2  # heavy_load
    np.testing.assert_allclose(stored["values"], [record[m] for m in METRICS], rtol=1e-6)


# --- validation: the whole batch is rejected, naming record, server and field ---------------

@pytest.mark.parametrize("field, value, message", [
    ("mem_used_pct", 140.0, "140.0 is above the maximum 100"),
    ("cpu_user_pct", -0.5, "-0.5 is below the minimum 0"),
    ("net_in_mb_s", -1, "-1 is below the minimum 0"),
    ("cpu_idle_pct", "12.5", '"12.5" is a string, expected a number'),
    ("load_average", True, "true is a boolean, expected a number"),
    ("swap_used_pct", None, "null is not allowed, expected a number"),
    ("disk_usage_pct", [1], "[1] is a list, expected a number"),
    ("net_out_mb_s", 10 ** 400, f"{str(10 ** 400)[:57]}... is too large"),
    ("back_close_wait", 2.5, "2.5 is not an integer"),
    ("uptime_days", -3, "-3 is below the minimum 0"),
    ("status", "unknown", 'invalid status value "unknown" - must be one of: critical_issue, healthy, '
                          "heavy_load, idle, maintenance, morning_spike, offline, recovery"),
    ("status", 1, "invalid status value 1 - must be one of: critical_issue, healthy, "
                  "heavy_load, idle, maintenance, morning_spike, offline, recovery"),
    ("timestamp", "2025-13-45T10:00:00", '"2025-13-45T10:00:00" is not an ISO 8601 timestamp'),
    ("timestamp", "yesterday", '"yesterday" is not an ISO 8601 timestamp'),
    ("timestamp", 1736935200, "1736935200 is an integer, expected an ISO 8601 string"),
    ("timestamp", "1999-12-31T23:55:00", '"1999-12-31T23:55:00" is before 2000-01-01'),
])
def test_it_rejects_a_batch_with_one_bad_field_and_names_it(client, team_a, redis_client, field, value, message):
    records = make_batch(5)
    records[3][field] = value
    response = post(client, team_a, records)
    assert response.status_code == 422
    assert response.json() == {"status": "error", "message": "Validation failed",
                               "errors": [f"records[3] (ppdb004).{field}: {message}"]}
    assert_nothing_stored(team_a, redis_client)


@pytest.mark.parametrize("literal, shown", [("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity")])
def test_it_rejects_non_finite_numbers(client, team_a, redis_client, literal, shown):
    body = json.dumps({"records": [make_record(mem_used_pct=1.5)]}).replace("1.5", literal)
    response = post(client, team_a, body=body)
    assert response.status_code == 422
    assert response.json()["errors"] == [f"records[0] (ppdb001).mem_used_pct: {shown} is not a finite number"]
    assert_nothing_stored(team_a, redis_client)


def test_it_rejects_a_timestamp_more_than_an_hour_ahead(client, team_a, redis_client):
    from datetime import datetime, timedelta, timezone

    ahead = (datetime.now(timezone.utc) + timedelta(minutes=61)).isoformat()
    response = post(client, team_a, [make_record(timestamp=ahead)])
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error.startswith(f'records[0] (ppdb001).timestamp: "{ahead}" is more than 1 hour in the future')
    assert_nothing_stored(team_a, redis_client)


def test_the_future_limit_is_a_setting(client, team_a, settings):
    from datetime import datetime, timedelta, timezone

    settings.ARGUS_MAX_FUTURE_SECONDS = 600
    ahead = (datetime.now(timezone.utc) + timedelta(minutes=15)).isoformat()
    [error] = post(client, team_a, [make_record(timestamp=ahead)]).json()["errors"]
    assert "is more than 10 minutes in the future" in error


def test_it_accepts_a_timestamp_up_to_an_hour_ahead(client, team_a):
    from datetime import datetime, timedelta, timezone

    ahead = (datetime.now(timezone.utc) + timedelta(minutes=55)).isoformat()
    assert post(client, team_a, [make_record(timestamp=ahead)]).status_code == 200


def test_it_lists_every_error_in_record_and_field_order(client, team_a, redis_client):
    records = make_batch(3)
    records[2]["mem_used_pct"] = 101
    records[0]["status"] = "down"
    records[0]["cpu_sys_pct"] = "5"
    del records[1]["cpu_iowait_pct"]
    response = post(client, team_a, records)
    assert response.json()["errors"] == [
        'records[0] (ppdb001).status: invalid status value "down" - must be one of: critical_issue, '
        "healthy, heavy_load, idle, maintenance, morning_spike, offline, recovery",
        'records[0] (ppdb001).cpu_sys_pct: "5" is a string, expected a number',
        "records[1] (ppdb002).cpu_iowait_pct: missing required field",
        "records[2] (ppdb003).mem_used_pct: 101 is above the maximum 100",
    ]
    assert_nothing_stored(team_a, redis_client)


def test_it_names_records_that_are_not_objects_or_have_a_bad_server_name(client, team_a):
    records = [make_record(), "ppdb002", make_record(server_name=""), make_record(server_name=7)]
    assert post(client, team_a, records).json()["errors"] == [
        "records[1]: expected an object, got a string",
        'records[2].server_name: "" must be 1-128 characters with no control characters',
        "records[3].server_name: 7 is an integer, expected a string",
    ]


@pytest.mark.parametrize("body, error", [
    ("[]", "body: expected a JSON object with a 'records' list"),
    ('{"rows": []}', "records: missing required field"),
    ('{"records": {"a": 1}}', "records: expected a list, got an object"),
    ('{"records": null}', "records: expected a list, got null"),
])
def test_it_rejects_a_body_without_a_records_list(client, team_a, body, error):
    response = post(client, team_a, body=body)
    assert response.status_code == 422
    assert response.json()["errors"] == [error]


def test_it_answers_400_to_malformed_json(client, team_a, redis_client):
    response = post(client, team_a, body='{"records": [')
    assert response.status_code == 400
    assert response.json()["status"] == "error"
    assert response.json()["message"].startswith("Malformed JSON")
    assert_nothing_stored(team_a, redis_client)


def test_it_answers_413_to_too_many_records(client, team_a, settings, redis_client):
    settings.ARGUS_MAX_RECORDS = 10
    response = post(client, team_a, make_batch(11))
    assert response.status_code == 413
    assert "Batch has 11 records; the limit is 10 per request" in response.json()["message"]
    assert_nothing_stored(team_a, redis_client)
    assert post(client, team_a, make_batch(10)).status_code == 200


def test_it_answers_413_to_a_body_over_the_size_limit(client, team_a, settings, redis_client):
    settings.ARGUS_MAX_BODY_BYTES = 2000
    response = post(client, team_a, make_batch(10))
    assert response.status_code == 413
    assert "exceeds 2000 bytes" in response.json()["message"]
    assert_nothing_stored(team_a, redis_client)


def test_it_caps_uptime_above_a_year_at_365_days(client, team_a):
    response = post(client, team_a, [make_record(uptime_days=1200)])
    assert response.status_code == 200
    [stored] = read_windows(team_a.team.id).windows["ppdb001"]
    assert stored["values"][METRICS.index("uptime_days")] == 365


def test_it_accepts_integral_floats_for_integer_metrics(client, team_a):
    assert post(client, team_a, [make_record(back_close_wait=4.0)]).status_code == 200


def test_it_ignores_unknown_fields_and_names_each_once(client, team_a):
    records = make_batch(3, datacenter="eu-1")
    records[0]["rack"] = 12
    body = json.dumps({"records": records, "source": "prometheus"})
    response = post(client, team_a, body=body)
    assert response.status_code == 200
    assert response.json()["warnings"] == [
        "Ignored unknown top-level field 'source'",
        "Ignored unknown field 'datacenter' (in 3 records)",
        "Ignored unknown field 'rack' (in 1 records)",
    ]
    assert response.json()["rolling_window_size"] == 3


# --- windows: idempotent, ordered, bounded ---------------------------------------------------

def test_re_sending_a_batch_does_not_duplicate_points(client, team_a):
    batch = make_batch(45)
    post(client, team_a, batch)
    again = post(client, team_a, batch).json()
    assert again["rolling_window_size"] == 45
    assert team_stats(team_a.team.id).points == 45
    assert stored_slots(team_a, "ppdb001") == [1736935200 // 300]


def test_a_re_sent_point_replaces_the_one_in_its_slot(client, team_a):
    post(client, team_a, [make_record(timestamp="2025-01-15T10:00:00", mem_used_pct=50.0)])
    # the same slot, written with a zone and a few seconds later
    post(client, team_a, [make_record(timestamp="2025-01-15T11:03:00+01:00", mem_used_pct=80.0)])
    [stored] = read_windows(team_a.team.id).windows["ppdb001"]
    assert stored["values"][METRICS.index("mem_used_pct")] == 80.0


def test_within_one_batch_the_last_record_for_a_slot_wins(client, team_a):
    post(client, team_a, [make_record(mem_used_pct=10.0), make_record(mem_used_pct=20.0)])
    [stored] = read_windows(team_a.team.id).windows["ppdb001"]
    assert stored["values"][METRICS.index("mem_used_pct")] == 20.0


def test_batches_arriving_out_of_order_land_in_time_order(client, team_a):
    for minute in ("20", "00", "10", "05", "15"):
        post(client, team_a, [make_record(timestamp=f"2025-01-15T10:{minute}:00")])
    base = 1736935200 // 300
    assert stored_slots(team_a, "ppdb001") == [base, base + 1, base + 2, base + 3, base + 4]
    assert team_stats(team_a.team.id).points == 5


def test_a_window_keeps_only_the_newest_slots(client, team_a, settings):
    settings.ARGUS_WINDOW_SLOTS = 4
    base = 1736935200 // 300
    for i in range(6):
        post(client, team_a, [make_record(timestamp=f"2025-01-15T10:{i * 5:02d}:00")])
    assert stored_slots(team_a, "ppdb001") == [base + 2, base + 3, base + 4, base + 5]
    # a late point older than the window is dropped; one inside it is kept
    post(client, team_a, [make_record(timestamp="2025-01-15T10:05:00"),
                          make_record(timestamp="2025-01-15T10:25:00")])
    assert stored_slots(team_a, "ppdb001") == [base + 2, base + 3, base + 4, base + 5]
    assert team_stats(team_a.team.id).points == 4


def test_the_window_is_by_time_so_a_gap_drops_old_points(client, team_a, settings):
    settings.ARGUS_WINDOW_SLOTS = 12  # one hour
    post(client, team_a, make_batch(2, "2025-01-15T10:00:00"))
    post(client, team_a, make_batch(2, "2025-01-15T12:00:00"))
    assert team_stats(team_a.team.id).points == 2
    assert stored_slots(team_a, "ppdb002") == [1736942400 // 300]


def test_a_backfilled_day_is_stored_whole_in_order(client, team_a):
    from datetime import datetime, timedelta

    start = datetime(2025, 1, 14, 10, 0)
    records = [make_record(f"ppapi{s:03d}", (start + timedelta(minutes=5 * i)).isoformat())
               for i in reversed(range(288)) for s in range(3)]
    response = post(client, team_a, records).json()
    assert response["rolling_window_size"] == 3 * 288
    slots = stored_slots(team_a, "ppapi001")
    assert slots == sorted(slots) and len(slots) == 288


def test_a_server_silent_for_the_ttl_is_forgotten(team_a, settings, redis_client):
    settings.ARGUS_SERVER_TTL = 60
    team, start = team_a.team.id, 1_700_000_000_000  # the scripts' clock, in ms
    append_batch(team, validate_batch([make_record("ppdb001")]), now_ms=start)
    # old data timestamps are fine: expiry is by arrival time, not data time
    late = validate_batch([make_record("ppdb002", timestamp="2020-01-01T00:00:00")])
    assert append_batch(team, late, now_ms=start + 59_000).points == 2  # not silent long enough yet
    assert append_batch(team, late, now_ms=start + 60_001).points == 1
    assert set(read_windows(team, now_ms=start + 60_001).windows) == {"ppdb002"}
    assert not redis_client.exists(f"argus:{{{team}}}:w:ppdb001")


def test_points_are_stored_compactly(client, team_a, redis_client):
    from datetime import datetime, timedelta

    start = datetime(2025, 1, 14, 10, 0)
    records = [make_record(f"ppdb{s:03d}", (start + timedelta(minutes=5 * i)).isoformat())
               for i in range(288) for s in range(10)]
    post(client, team_a, records)
    history = {keys.team(team_a.team.id).history_stream, keys.team(team_a.team.id).history_state}
    used = {k.decode(): redis_client.memory_usage(k, samples=0)
            for k in redis_client.scan_iter(f"argus:{{{team_a.team.id}}}:*")}
    assert sum(v for k, v in used.items() if k not in history) / len(records) <= 120
    # the copy waiting for the history archiver (drained within ARGUS_HISTORY_ARCHIVE_SECONDS)
    assert sum(v for k, v in used.items() if k in history) / len(records) <= 80


# --- tenants -----------------------------------------------------------------------------------

def test_teams_keep_separate_windows_for_the_same_server_names(client, team_a, team_b):
    post(client, team_a, make_batch(3, mem_used_pct=10.0))
    post(client, team_b, make_batch(2, mem_used_pct=90.0))
    assert team_stats(team_a.team.id).points == 3
    assert team_stats(team_b.team.id).points == 2
    a, b = read_windows(team_a.team.id).windows, read_windows(team_b.team.id).windows
    assert a["ppdb001"]["values"][0][METRICS.index("mem_used_pct")] == 10.0
    assert b["ppdb001"]["values"][0][METRICS.index("mem_used_pct")] == 90.0
    assert "ppdb003" not in b


def test_a_team_id_in_the_body_is_ignored(client, team_a, team_b):
    body = json.dumps({"records": make_batch(2), "team": team_b.team.slug, "team_id": team_b.team.id})
    post(client, team_a, body=body)
    assert team_stats(team_b.team.id).points == 0
    assert team_stats(team_a.team.id).points == 2


# --- hostile input: refused whole and clearly, before anything is stored ---------------------

@pytest.mark.parametrize("field, value, maximum", [
    ("load_average", 1e39, "1,000,000"), ("net_in_mb_s", 1e308, "1,000,000"),
    ("net_out_mb_s", 2e6, "1,000,000"), ("back_close_wait", 10**8, "10,000,000"),
])
def test_it_rejects_open_ended_metrics_above_their_documented_maximum(client, team_a, redis_client, field, value, maximum):
    records = make_batch(2)
    records[1][field] = value
    response = post(client, team_a, records)
    assert response.status_code == 422
    assert response.json()["errors"] == [f"records[1] (ppdb002).{field}: {json.dumps(value)} is above the maximum {maximum}"]
    assert_nothing_stored(team_a, redis_client)


def test_it_stores_the_documented_maxima_as_finite_numbers(client, team_a):
    record = make_record(load_average=1_000_000.0, net_in_mb_s=1_000_000.0, front_close_wait=10_000_000)
    assert post(client, team_a, [record]).status_code == 200
    stored = read_windows(team_a.team.id).windows["ppdb001"]["values"]
    assert np.isfinite(stored).all()
    assert stored[0, METRICS.index("front_close_wait")] == 10_000_000


@pytest.mark.parametrize("where", ["field name", "server name", "top-level field name", "status"])
def test_it_rejects_a_lone_surrogate_before_storing_anything(client, team_a, redis_client, where):
    records = make_batch(2)
    body = json.dumps({"records": records})
    lone = '"ppdb\\ud800x"'
    body = {
        "field name": body.replace('"status": "healthy"', f'"status": "healthy", {lone}: 1', 1),
        "server name": body.replace('"ppdb002"', lone),
        "top-level field name": body.replace('{"records"', f'{{{lone}: 1, "records"'),
        "status": body.replace('"healthy"', lone, 1),
    }[where]
    response = post(client, team_a, body=body)
    assert response.status_code == 422
    [message] = response.json()["errors"]
    assert "not valid Unicode" in message and "\\ud800" in message
    assert_nothing_stored(team_a, redis_client)


def test_it_answers_400_to_deeply_nested_json(client, team_a, redis_client):
    body = '{"records": [' + "[" * 100_000 + "]" * 100_000 + "]}"
    response = post(client, team_a, body=body)
    assert response.status_code == 400
    assert response.json() == {"status": "error", "message": "Malformed JSON: nested too deeply"}
    assert_nothing_stored(team_a, redis_client)


def test_it_caps_the_warnings_list_like_the_errors_list(client, team_a):
    record = make_record(**{f"extra_{i:04d}": 1 for i in range(250)})
    response = post(client, team_a, [record])
    assert response.status_code == 200
    warnings = response.json()["warnings"]
    assert len(warnings) == 101
    assert warnings[-1] == "... and 150 more warnings"


def test_a_huge_unknown_field_name_is_quoted_back_clipped(client, team_a):
    response = post(client, team_a, [make_record(**{"x" * 100_000: 1})])
    assert response.status_code == 200
    assert response.json()["warnings"] == [f"Ignored unknown field '{'x' * 57}...' (in 1 records)"]
