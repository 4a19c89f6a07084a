"""Live forecast accuracy: forecasts a run keeps are scored when a later run's window holds their
slot, beside seasonal naive, per team, metric and horizon, over a rolling 7 days; GET /accuracy
and /status show it."""
import numpy as np
import pytest

from core import keys
from feeds.schema import METRICS, SLOTS_PER_DAY
from feeds.windows import RECORD
from inference import accuracy
from inference.model.features import TARGETS
from tests.factories import make_batch

MEM = METRICS.index("mem_used_pct")
DAY = 20_170  # 2025-03-23
E = DAY * SLOTS_PER_DAY + 100  # the first run's newest slot
QUANTILES = (0.1, 0.5, 0.9)


@pytest.fixture(autouse=True)
def every_run_keeps_its_forecasts(settings):
    settings.ARGUS_ACCURACY_ORIGIN_SLOTS = 1


def window(first, last, mem=None):
    """A server's window, slots first..last, every metric 10 and mem_used_pct 50 except mem {slot: value}."""
    slots = np.arange(first, last + 1)
    records = np.zeros(len(slots), RECORD)
    records["slot"] = slots
    records["values"] = 10.0
    records["values"][:, MEM] = [(mem or {}).get(int(s), 50.0) for s in slots]
    return records


def flat_forecast(p10, p50, p90):
    forecast = np.zeros((96, len(TARGETS), 3), dtype=np.float32)
    forecast[..., 0], forecast[..., 1], forecast[..., 2] = p10, p50, p90
    return forecast


def track(team, end_slots: dict, windows: dict, forecast=flat_forecast(45, 52, 60)):
    names = sorted(end_slots)
    accuracy.track(team.team.id, names, np.array([end_slots[n] for n in names]), windows,
                   np.stack([forecast] * len(names)), QUANTILES)


def mem_figures(team, horizon=None):
    entry = accuracy.team_accuracy(team.team.id)["metrics"].get("mem_used_pct")
    return entry if horizon is None or entry is None else entry["horizons"].get(horizon)


def test_a_forecast_is_scored_when_its_actual_arrives_beside_seasonal_naive(team_a):
    track(team_a, {"s1": E, "s2": E}, {"s1": window(E - 400, E), "s2": window(E - 400, E)})
    assert accuracy.team_accuracy(team_a.team.id)["metrics"] == {}  # nothing has arrived yet
    # an hour later: s1 is at 55 (within P10-P90), s2 at 70 (above P90); a day before both were 50
    track(team_a, {"s1": E + 12, "s2": E + 12}, {"s1": window(E - 400, E + 12, {E + 12: 55.0}),
                                                 "s2": window(E - 400, E + 12, {E + 12: 70.0})})
    mae, naive_mae = (abs(52 - 55) + abs(52 - 70)) / 2, (abs(50 - 55) + abs(50 - 70)) / 2
    assert mem_figures(team_a, "1h") == {"points": 2, "mae": mae, "seasonal_naive_mae": naive_mae,
                                         "relative_mae": round(mae / naive_mae, 4), "coverage_p10_p90": 0.5}
    assert set(mem_figures(team_a)["horizons"]) == {"1h"}  # 4 and 8 hours ahead have not arrived


def test_each_horizon_is_scored_at_its_own_slot(team_a):
    track(team_a, {"s1": E}, {"s1": window(E - 400, E)})
    track(team_a, {"s1": E + 96}, {"s1": window(E - 400, E + 96, {E + 12: 51.0, E + 48: 54.0, E + 96: 60.0})})
    horizons = mem_figures(team_a)["horizons"]
    assert {h: (f["points"], f["mae"]) for h, f in horizons.items()} == {"1h": (1, 1.0), "4h": (1, 2.0), "8h": (1, 8.0)}
    assert mem_figures(team_a)["mae"] == round((1 + 2 + 8) / 3, 4)  # the metric's summary: every horizon
    assert mem_figures(team_a)["coverage_p10_p90"] == 1.0  # 60 is P90: within


def test_a_slot_without_a_point_a_day_before_is_not_scored(team_a, redis_client):
    track(team_a, {"s1": E}, {"s1": window(E - 10, E)})
    track(team_a, {"s1": E + 12}, {"s1": window(E - 10, E + 12)})
    assert accuracy.team_accuracy(team_a.team.id)["metrics"] == {}


def test_a_forecast_whose_slot_never_arrives_is_dropped(team_a, redis_client):
    track(team_a, {"s1": E}, {"s1": window(E - 400, E)})
    gap = window(E - 400, E + 20)
    track(team_a, {"s1": E + 20}, {"s1": gap[gap["slot"] != E + 12]})  # a gap at E + 12
    assert mem_figures(team_a) is None
    pending = np.frombuffer(redis_client.hget(keys.team(team_a.team.id).accuracy_pending, "s1"), accuracy.PENDING)
    assert int(pending["target"].min()) > E + 20  # only forecasts of slots still ahead wait


def test_the_rolling_window_drops_days_older_than_seven(team_a):
    track(team_a, {"s1": E}, {"s1": window(E - 400, E)})
    track(team_a, {"s1": E + 12}, {"s1": window(E - 400, E + 12, {E + 12: 60.0})})  # |52 - 60| on day DAY
    assert mem_figures(team_a, "1h")["mae"] == 8.0
    later = E + 6 * SLOTS_PER_DAY
    track(team_a, {"s1": later}, {"s1": window(later - 400, later)})
    track(team_a, {"s1": later + 12}, {"s1": window(later - 400, later + 12, {later + 12: 54.0})})
    assert mem_figures(team_a, "1h") == {**mem_figures(team_a, "1h"), "points": 2, "mae": 5.0}  # 6 days on: both
    last = E + 7 * SLOTS_PER_DAY
    track(team_a, {"s1": last}, {"s1": window(last - 400, last)})
    track(team_a, {"s1": last + 12}, {"s1": window(last - 400, last + 12, {last + 12: 53.0})})
    assert (mem_figures(team_a, "1h")["points"], mem_figures(team_a, "1h")["mae"]) == (2, 1.5)  # day DAY is out


def test_what_waits_per_server_is_bounded(team_a, redis_client, settings):
    settings.ARGUS_ACCURACY_ORIGIN_SLOTS = 3
    for end in range(E, E + 300):
        track(team_a, {"s1": end}, {"s1": window(end - 400, end)})
    waiting = redis_client.hget(keys.team(team_a.team.id).accuracy_pending, "s1")
    assert len(waiting) // accuracy.PENDING.itemsize <= (12 + 48 + 96) // 3 + 3
    assert mem_figures(team_a, "8h")["points"] > 0


def test_a_run_that_sees_an_unchanged_window_keeps_one_forecast_per_slot(team_a, redis_client):
    for _ in range(3):
        track(team_a, {"s1": E}, {"s1": window(E - 400, E)})
    waiting = redis_client.hget(keys.team(team_a.team.id).accuracy_pending, "s1")
    assert len(waiting) // accuracy.PENDING.itemsize == 3


def test_forgetting_a_server_drops_its_waiting_forecasts(client, team_a, redis_client):
    client.post("/feed/data", {"records": make_batch(1)}, format="json", **team_a.headers)
    track(team_a, {"ppdb001": E}, {"ppdb001": window(E - 400, E)})
    assert client.delete("/feed/servers/ppdb001", **team_a.headers).status_code == 200
    assert not redis_client.hexists(keys.team(team_a.team.id).accuracy_pending, "ppdb001")


# --- GET /accuracy and /status --------------------------------------------------------------------

@pytest.fixture
def scored(team_a):
    track(team_a, {"s1": E}, {"s1": window(E - 400, E)})
    track(team_a, {"s1": E + 12}, {"s1": window(E - 400, E + 12, {E + 12: 55.0})})


def test_the_accuracy_endpoint_shows_each_metric_per_horizon(client, team_a, scored):
    body = client.get("/accuracy", **team_a.headers).json()
    assert (body["window_days"], body["horizons"]) == (7, {"1h": 60, "4h": 240, "8h": 480})
    assert (body["start"], body["end"]) == ("2025-03-17T00:00:00Z", "2025-03-24T00:00:00Z")
    assert set(body["metrics"]) == set(TARGETS)
    assert body["metrics"]["mem_used_pct"]["horizons"]["1h"] == {
        "points": 1, "mae": 3.0, "seasonal_naive_mae": 5.0, "relative_mae": 0.6, "coverage_p10_p90": 1.0}


def test_status_shows_a_summary_per_metric_with_a_key_only(client, team_a, scored):
    body = client.get("/status", **team_a.headers).json()
    assert body["forecast_accuracy"]["mem_used_pct"] == {
        "points": 1, "mae": 3.0, "seasonal_naive_mae": 5.0, "relative_mae": 0.6, "coverage_p10_p90": 1.0}
    assert "forecast_accuracy" not in client.get("/status").json()


def test_each_team_sees_only_its_own_accuracy(client, team_a, team_b, scored):
    assert client.get("/accuracy", **team_b.headers).json()["metrics"] == {}
    assert client.get("/status", **team_b.headers).json()["forecast_accuracy"] == {}


def test_the_accuracy_endpoint_takes_no_parameters_and_needs_a_key(client, team_a):
    response = client.get("/accuracy", {"horizon": "1h"}, **team_a.headers)
    assert response.status_code == 400 and response.json()["detail"].startswith("'horizon': ")
    assert client.get("/accuracy").status_code == 401


def test_the_accuracy_endpoint_has_the_read_rate_limit(client, team_a, settings):
    settings.ARGUS_RATE_READ = "2/min"
    assert [client.get("/accuracy", **team_a.headers).status_code for _ in range(3)] == [200, 200, 429]
