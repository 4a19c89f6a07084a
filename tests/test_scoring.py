"""The risk scoring rules (docs/risk_scoring.md), one behaviour per test."""
import numpy as np
import pytest

from inference.scoring import (
    TARGETS, exceedance, fleet_probability, humanize_minutes, level_of, metric_risk, score_server, threshold,
)

QUIET = {"cpu_pct": 20.0, "mem_used_pct": 50.0, "cpu_iowait_pct": 2.0, "swap_used_pct": 0.0,
         "load_average": 1.0, "disk_usage_pct": 40.0}


def flat_forecast(levels=None, spread=2.0):
    """[96, 6, 3] forecast holding each target flat at a level, with P10/P90 +-spread."""
    levels = {**QUIET, **(levels or {})}
    base = np.array([levels[t] for t in TARGETS], dtype=np.float32)
    p50 = np.broadcast_to(base, (96, len(TARGETS)))
    return np.stack([p50 - spread, p50, p50 + spread], axis=-1)


def ramp(forecast, target, start, end):
    f = forecast.copy()
    line = np.linspace(start, end, 96)
    f[:, TARGETS.index(target), 1] = line
    f[:, TARGETS.index(target), 0] = line - 2
    f[:, TARGETS.index(target), 2] = line + 2
    return f


@pytest.mark.parametrize("risk, level, color", [(100, "critical", "#FF0000"), (80, "critical", "#FF0000"),
                                                (79.6, "critical", "#FF0000"), (79, "warning", "#FFA500"),
                                                (60, "warning", "#FFA500"), (59, "degraded", "#FFD700"),
                                                (50, "degraded", "#FFD700"), (49, "healthy", "#00FF00"),
                                                (0, "healthy", "#00FF00")])
def test_levels_and_colours_follow_the_documented_bands(risk, level, color):
    alert = level_of(risk)
    assert (alert["level"], alert["color"]) == (level, color)


def test_a_value_over_its_threshold_now_is_risk_100():
    assert metric_risk(95.0, np.full(96, 95.0), np.full(96, 97.0), 90.0) == (100.0, 0, "now")


def test_a_p50_crossing_within_30_minutes_is_critical_and_sooner_is_worse():
    at_10 = metric_risk(80.0, np.r_[np.full(1, 85.0), np.full(95, 95.0)], np.full(96, 97.0), 90.0)
    at_30 = metric_risk(80.0, np.r_[np.full(5, 85.0), np.full(91, 95.0)], np.full(96, 97.0), 90.0)
    assert at_10[1:] == (10, "p50") and at_30[1:] == (30, "p50")
    assert 99 > at_10[0] > at_30[0] >= 80


def test_a_later_p50_crossing_is_a_warning_graded_by_time():
    after_1h = metric_risk(50.0, np.r_[np.full(11, 80.0), np.full(85, 92.0)], np.full(96, 95.0), 90.0)
    after_7h = metric_risk(50.0, np.r_[np.full(83, 80.0), np.full(13, 92.0)], np.full(96, 95.0), 90.0)
    assert after_1h[1] == 60 and after_7h[1] == 420
    assert 80 > after_1h[0] > after_7h[0] >= 60


def test_only_a_p90_crossing_is_degraded():
    risk, minutes, evidence = metric_risk(50.0, np.full(96, 80.0), np.r_[np.full(47, 85.0), np.full(49, 91.0)], 90.0)
    assert (minutes, evidence) == (240, "p90") and 50 <= risk < 60


def test_no_crossing_is_healthy_and_grows_as_p90_approaches():
    far = metric_risk(10.0, np.full(96, 10.0), np.full(96, 20.0), 90.0)[0]
    near = metric_risk(70.0, np.full(96, 80.0), np.full(96, 85.0), 90.0)[0]
    assert far == 0 and 0 < near < 50


def test_the_profile_changes_the_threshold():
    assert threshold("database", "mem_used_pct") == 98 and threshold("web_api", "mem_used_pct") == 85
    assert threshold("generic", "mem_used_pct") == 90
    forecast = flat_forecast({"mem_used_pct": 95.0})
    current = np.array([20, 95, 2, 0, 1, 40], dtype=np.float32)
    database = score_server("ppdb001", "database", current, forecast)
    web = score_server("ppapi001", "web_api", current, forecast)
    assert database.alert["level"] == "healthy"
    assert web.alert["level"] == "critical" and web.risk == 100


def test_a_memory_leak_alert_says_what_and_when():
    forecast = ramp(flat_forecast(), "mem_used_pct", 70, 100)  # crosses 90 two thirds in
    current = np.array([20, 70, 2, 0, 1, 40], dtype=np.float32)
    score = score_server("ppapi003", "generic", current, forecast)
    [problem] = score.problems
    minutes = score.metrics["mem_used_pct"]["minutes_to_issue"]
    assert problem["message"] == f"Memory exhaustion predicted in {humanize_minutes(minutes)}"
    assert (problem["server_name"], problem["metric"], problem["level"]) == ("ppapi003", "mem_used_pct", "warning")
    assert 300 <= minutes <= 340
    assert score.alert["level"] == "warning"


def test_a_server_s_risk_is_its_worst_metric():
    forecast = ramp(ramp(flat_forecast(), "disk_usage_pct", 80, 95), "cpu_pct", 50, 60)
    score = score_server("x", "generic", np.array([50, 20, 2, 0, 1, 80], dtype=np.float32), forecast)
    assert score.risk == score.metrics["disk_usage_pct"]["risk"] == max(m["risk"] for m in score.metrics.values())


def test_exceedance_probability_follows_the_quantiles():
    q10, q50, q90 = np.array([80.0]), np.array([85.0]), np.array([90.0])
    assert exceedance(q10, q50, q90, 85.0)[0] == pytest.approx(0.5)
    assert exceedance(q10, q50, q90, 90.0)[0] == pytest.approx(0.1)
    assert exceedance(q10, q50, q90, 80.0)[0] == pytest.approx(0.9)
    assert exceedance(q10, q50, q90, 96.0)[0] == 0.0
    assert exceedance(q10, q50, q90, 70.0)[0] == 1.0
    assert 0.1 < exceedance(q10, q50, q90, 88.0)[0] < 0.5


def test_breach_probabilities_cover_30_minutes_and_8_hours():
    late = ramp(flat_forecast(), "mem_used_pct", 60, 100)
    score = score_server("x", "generic", np.array([20, 60, 2, 0, 1, 40], dtype=np.float32), late)
    assert score.prob_30m == 0.0 and score.prob_8h > 0.9


def test_fleet_probability_is_one_minus_no_server_breaching():
    assert fleet_probability([0.5, 0.5]) == pytest.approx(0.75)
    assert fleet_probability([]) == 0.0


@pytest.mark.parametrize("minutes, text", [(0, "now"), (45, "45 minutes"), (60, "1 hour"),
                                           (135, "2 hours 15 minutes")])
def test_times_read_naturally(minutes, text):
    assert humanize_minutes(minutes) == text


def test_a_close_wait_line_crossing_its_limit_is_a_connection_leak_alert():
    current = np.array([20, 50, 2, 0, 1, 40], dtype=np.float32)
    line = np.linspace(310, 790, 96)  # crosses 500 at step 39: 3 hours 15 minutes
    score = score_server("ppapi001", "web_api", current, flat_forecast(),
                         lines={"back_close_wait": (305.0, line), "front_close_wait": (3.0, np.full(96, 3.0))})
    [problem] = score.problems
    assert problem["metric"] == "back_close_wait" and problem["level"] == "warning"
    assert problem["message"] == "Connection leak (back end) predicted in 3 hours 15 minutes"
    assert score.metrics["front_close_wait"]["risk"] == 0
    assert score.prob_30m == 0.0 and score.prob_8h == 1.0  # a line has no band: certain


def test_a_close_wait_count_over_its_limit_is_a_breach_now():
    current = np.array([20, 50, 2, 0, 1, 40], dtype=np.float32)
    score = score_server("x", "generic", current, flat_forecast(),
                         lines={"front_close_wait": (612.0, np.full(96, 612.0))})
    assert score.risk == 100
    assert score.problems[0]["message"] == "Connection leak (front end) now: front_close_wait is 612.0, at or above 500"
