"""The fleet simulator: determinism, feed schema, correlated metrics, labelled incidents."""
import numpy as np
import pandas as pd
import pytest

from model_fixtures import REPO  # noqa: F401  (puts the repo on sys.path)
from feeds.schema import INTEGER_METRICS, METRICS, STATUSES, profile_of
from inference.simulator import INCIDENT_KINDS, incident_metric, simulate_fleet


@pytest.fixture(scope="module")
def fleet():
    return simulate_fleet(20, days=10, seed=11, incident_rate=0.3)


def test_the_same_seed_gives_the_same_fleet_and_another_seed_does_not():
    a, ia = simulate_fleet(5, days=2, seed=7)
    b, ib = simulate_fleet(5, days=2, seed=7)
    c, _ = simulate_fleet(5, days=2, seed=8)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(ia, ib)
    assert not a[list(METRICS)].equals(c[list(METRICS)])


def test_records_follow_the_feed_schema(fleet):
    records, _ = fleet
    assert list(records.columns) == ["timestamp", "server_name", "status", *METRICS]
    assert set(records["status"]) <= set(STATUSES)
    assert records.groupby("server_name").size().eq(10 * 288).all()
    assert (records["timestamp"].dt.minute % 5 == 0).all()
    for m in METRICS:
        assert records[m].notna().all() and (records[m] >= 0).all(), m
        if m.endswith("_pct"):
            assert (records[m] <= 100).all(), m
        if m in INTEGER_METRICS:
            assert np.issubdtype(records[m].dtype, np.integer), m
    assert (records["uptime_days"] <= 365).all()


def test_cpu_idle_is_what_user_sys_and_iowait_leave(fleet):
    records, _ = fleet
    total = records[["cpu_user_pct", "cpu_sys_pct", "cpu_iowait_pct", "cpu_idle_pct"]].sum(axis=1)
    assert np.allclose(total, 100, atol=0.011)


def test_server_names_carry_the_contracts_profile_prefixes(fleet):
    records, _ = fleet
    profiles = {profile_of(n) for n in records["server_name"].unique()}
    assert {"web_api", "database", "ml_compute", "data_ingest", "risk_analytics",
            "conductor_mgmt", "generic"} <= profiles
    assert "ppdb001" in set(records["server_name"])


def test_web_servers_are_busier_in_business_hours_and_on_weekdays(fleet):
    records, _ = fleet
    web = records[records["server_name"].str.startswith("ppapi")
                  & ~records["status"].isin(["maintenance", "offline", "critical_issue"])]
    cpu = 100 - web["cpu_idle_pct"]
    hour, weekday = web["timestamp"].dt.hour, web["timestamp"].dt.dayofweek < 5
    assert cpu[(hour == 11) & weekday].mean() > 2 * cpu[(hour == 3) & weekday].mean()
    assert cpu[(hour == 11) & weekday].mean() > 1.3 * cpu[(hour == 11) & ~weekday].mean()


def test_load_follows_cpu_and_network_follows_traffic(fleet):
    records, _ = fleet
    db = records[records["server_name"] == "ppdb001"]
    busy = 100 - db["cpu_idle_pct"]
    assert np.corrcoef(busy, db["load_average"])[0, 1] > 0.7
    assert np.corrcoef(busy, db["net_in_mb_s"])[0, 1] > 0.5


def test_every_incident_is_labelled_with_the_first_slot_its_threshold_is_reached(fleet):
    records, incidents = fleet
    assert set(incidents["kind"]) == set(INCIDENT_KINDS)
    assert incidents["breach_time"].notna().mean() > 0.9
    for inc in incidents.itertuples():
        server = records[records["server_name"] == inc.server_name].set_index("timestamp")
        if pd.isna(inc.breach_time):
            continue
        values = incident_metric(server, inc.metric)
        before = values[inc.onset:inc.breach_time].iloc[:-1]
        assert values[inc.breach_time] >= inc.threshold, inc
        assert (before < inc.threshold).all(), inc
        assert server.loc[inc.breach_time, "status"] == "critical_issue"


def test_incidents_build_up_over_hours(fleet):
    _, incidents = fleet
    lead = (incidents["breach_time"] - incidents["onset"]).dropna()
    assert (lead >= pd.Timedelta(minutes=50)).all()
    assert lead.median() >= pd.Timedelta(hours=1.5)


def test_reboots_reset_uptime_and_offline_servers_report_no_cpu(fleet):
    records, _ = fleet
    off = records[records["status"] == "offline"]
    assert len(off) > 0
    assert (off["uptime_days"] == 0).all() and (off["cpu_idle_pct"] == 100).all()
    resets = 0
    for _, g in records.groupby("server_name"):
        resets += int((g["uptime_days"].diff() < 0).sum())
    assert resets > 0
    assert (records["status"] == "maintenance").any()


def test_a_filled_disk_is_cleaned_up_back_to_about_where_it_was(fleet):
    records, incidents = fleet
    fills = incidents[(incidents["kind"] == "disk_filling") & incidents["breach_time"].notna()]
    checked = 0
    for _, inc in fills.iterrows():
        server = records[records["server_name"] == inc["server_name"]].set_index("timestamp")
        after = server.loc[inc["breach_time"]:]
        ended = after.index[after["status"] != "critical_issue"]
        if len(ended) == 0 or ended[0] + pd.Timedelta(hours=1) > server.index[-1]:
            continue  # the series ends before the cleanup
        before = server.loc[inc["onset"], "disk_usage_pct"]
        cleaned = server.loc[ended[0]:ended[0] + pd.Timedelta(hours=1), "disk_usage_pct"]
        assert (cleaned > before - 5).all() and (cleaned < before + 2).all(), (inc, cleaned)
        checked += 1
    assert checked >= 2


def _one_server(variety, seed=5, days=7):
    from inference.simulator import DEFAULT_START, _simulate_server

    n = days * 288
    times = DEFAULT_START.value // 10 ** 9 + 300 * np.arange(n, dtype=np.int64)
    rec, _, _ = _simulate_server("ppapi001", "web_api", n, times, np.random.default_rng(seed), 0.0, variety)
    return 100 - rec["cpu_idle_pct"]


def test_a_host_on_another_clock_peaks_at_its_own_hours():
    from inference.simulator import Variety

    def day(cpu):  # the average day, hourly
        return cpu.reshape(-1, 288).mean(axis=0).reshape(24, 12).mean(axis=1)

    utc, shifted = day(_one_server(Variety())), day(_one_server(Variety(shift_hours=9)))
    assert 9 <= np.argmax(utc) <= 17  # business hours, UTC
    # the same day, about nine hours earlier on the UTC clock (its weekends fall on other UTC
    # hours too, which blurs the average day a little)
    best = max(range(24), key=lambda k: np.corrcoef(np.roll(shifted, k), utc)[0, 1])
    assert abs(best - 9) <= 2


def test_a_jittery_host_jumps_between_points_but_its_hourly_average_stays():
    from inference.simulator import Variety

    calm, jittery = _one_server(Variety()), _one_server(Variety(cpu_jitter=8))
    step = lambda cpu: np.abs(np.diff(cpu)).mean()  # noqa: E731
    hourly = lambda cpu: cpu.reshape(-1, 12).mean(axis=1)  # noqa: E731
    assert step(jittery) > 3 * step(calm)
    assert np.abs(hourly(jittery) - hourly(calm)).mean() < 3


def test_variety_is_drawn_per_server_and_only_when_asked():
    plain, _ = simulate_fleet(8, days=1, seed=4)
    again, _ = simulate_fleet(8, days=1, seed=4, variety=False)
    varied, _ = simulate_fleet(8, days=1, seed=4, variety=True)
    pd.testing.assert_frame_equal(plain, again)
    changed = [name for name, rows in varied.groupby("server_name")
               if not np.allclose(rows["cpu_idle_pct"], plain.loc[plain["server_name"] == name, "cpu_idle_pct"])]
    assert 0 < len(changed) < 8
