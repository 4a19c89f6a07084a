"""Trends: steady memory and disk climbs, fast memory climbs past yesterday's range and fast,
straight CPU and I/O-wait climbs lift the forecast, steady CLOSE_WAIT climbs become a line;
other shapes do neither."""
import numpy as np
import pytest

from feeds.schema import METRICS
from inference.model.features import TARGETS
from inference.trend import (DISK_FILL, FAST_MEMORY_LEAK, IOWAIT_STORM, LEAK_FIT_STEPS, MEMORY_LEAK,
                             ROUGH_RUNAWAY_CPU, RUNAWAY_CPU, connection_lines, raise_for_trends)

FIT_STEPS = MEMORY_LEAK.fit_steps

MEM, CPU, IOWAIT, DISK = (TARGETS.index(t) for t in ("mem_used_pct", "cpu_pct", "cpu_iowait_pct", "disk_usage_pct"))


def flat_forecast(n=1, level=60.0):
    return np.full((n, 96, len(TARGETS), 3), level, dtype=np.float32) + np.array([-2, 0, 2], dtype=np.float32)


def history_with(target, series, n=1, base=50.0):
    history = np.full((n, 288, len(TARGETS)), base, dtype=np.float32)
    history[:, -len(series):, target] = series
    return history


def test_a_steady_memory_climb_extends_its_line():
    climb = 60 + 0.1 * np.arange(FIT_STEPS)  # +1.2 points an hour
    out = raise_for_trends(flat_forecast(level=60), history_with(MEM, climb))
    median = out[0, :, MEM, 1]
    assert median[0] > climb[-1] and median[47] > median[0] + 4  # keeps climbing for hours
    assert out[0, 47, MEM, 2] - out[0, 47, MEM, 1] == 2  # the band moves with it
    assert np.allclose(median[48:], median[47])  # no further than four hours


def test_a_disk_filling_for_an_hour_extends_its_line_but_an_hour_of_memory_does_not():
    climb = 60 + 0.25 * np.arange(DISK_FILL.fit_steps)  # +3 points an hour
    out = raise_for_trends(flat_forecast(level=60), history_with(DISK, climb))
    assert out[0, 47, DISK, 1] == pytest.approx(climb[-1] + 0.25 * 48, abs=1e-3)
    out = raise_for_trends(flat_forecast(level=60), history_with(MEM, climb))
    assert np.array_equal(out, flat_forecast(level=60))


FAST_LEAK = 50 + 0.5 * np.arange(FAST_MEMORY_LEAK.fit_steps)  # +6 points an hour, to 61.5


def test_a_fast_memory_climb_well_past_yesterday_extends_its_line():
    out = raise_for_trends(flat_forecast(level=50), history_with(MEM, FAST_LEAK))
    assert out[0, 47, MEM, 1] == pytest.approx(FAST_LEAK[-1] + 0.5 * 48, abs=1e-3)


@pytest.mark.parametrize("yesterday", [60.0, 90.0])  # within the margin of today's last value; above it
def test_a_fast_memory_climb_that_yesterday_also_reached_is_left_to_the_model(yesterday):
    history = history_with(MEM, FAST_LEAK)
    history[:, 30, MEM] = yesterday  # two and a half hours ahead, yesterday: the nightly batch
    out = raise_for_trends(flat_forecast(level=50), history)
    assert np.array_equal(out, flat_forecast(level=50))


def test_the_same_slow_climb_in_cpu_is_left_to_the_model():
    climb = 60 + 0.1 * np.arange(FIT_STEPS)  # a morning ramp's pace
    out = raise_for_trends(flat_forecast(level=60), history_with(CPU, climb))
    assert np.array_equal(out, flat_forecast(level=60))


# +24 points an hour, from 20 to 36: straight over both CPU rules' fits, so they agree
FAST = 20 + 2.0 * np.arange(ROUGH_RUNAWAY_CPU.fit_steps)


@pytest.mark.parametrize("target", [CPU, IOWAIT])
def test_a_fast_straight_cpu_or_iowait_climb_extends_its_line_for_two_hours(target):
    out = raise_for_trends(flat_forecast(level=20), history_with(target, FAST, base=10))
    median = out[0, :, target, 1]
    assert median[0] == pytest.approx(FAST[-1] + 2, abs=1e-3)
    assert median[23] == pytest.approx(FAST[-1] + 2 * 24, abs=1e-3)
    assert np.allclose(median[24:], median[23])  # no further than two hours


def test_a_fast_climb_on_a_new_server_counts_without_yesterday():
    history = history_with(CPU, FAST, base=10)
    history[:, :200] = np.nan  # only the last 88 slots reported
    out = raise_for_trends(flat_forecast(level=20), history)
    assert out[0, 23, CPU, 1] == pytest.approx(FAST[-1] + 2 * 24, abs=1e-3)


def test_a_fast_climb_that_went_higher_at_this_time_yesterday_is_left_to_the_model():
    history = history_with(CPU, FAST, base=10)
    history[:, 12, CPU] = 60  # yesterday, an hour after this time of day: the nightly batch
    out = raise_for_trends(flat_forecast(level=20), history)
    assert np.array_equal(out, flat_forecast(level=20))


@pytest.mark.parametrize("target, margin", [(CPU, RUNAWAY_CPU.above_yesterday),
                                            (IOWAIT, IOWAIT_STORM.above_yesterday)])
def test_a_fast_climb_must_clear_yesterday_by_a_margin(target, margin):
    for yesterday, lifted in ((FAST[-1] - margin - 0.5, True), (FAST[-1] - margin + 0.5, False)):
        history = history_with(target, FAST, base=10)
        history[:, 12, target] = yesterday
        out = raise_for_trends(flat_forecast(level=20), history)
        assert (out[0, 0, target, 1] > 20) == lifted


def test_a_rough_cpu_climb_over_45_minutes_extends_its_line():
    rough = np.array([30, 36, 34, 45, 48, 42, 55, 52, 60.0])  # a runaway on a noisy host
    assert len(rough) == ROUGH_RUNAWAY_CPU.fit_steps
    out = raise_for_trends(flat_forecast(level=30), history_with(CPU, rough, base=20))
    assert out[0, 23, CPU, 1] > 90
    out = raise_for_trends(flat_forecast(level=30), history_with(IOWAIT, rough, base=20))
    assert np.array_equal(out, flat_forecast(level=30))  # I/O wait needs the straight half hour


def test_a_jagged_or_small_cpu_climb_is_left_to_the_model():
    for series in (np.array([20, 28, 21, 24, 30, 26.0]),  # rising, but not straight
                   20 + 0.4 * np.arange(RUNAWAY_CPU.fit_steps)):  # straight, but only 2 points
        out = raise_for_trends(flat_forecast(level=20), history_with(CPU, series, base=10))
        assert np.array_equal(out, flat_forecast(level=20))


def test_noise_and_small_or_falling_slopes_change_nothing():
    rng = np.random.default_rng(0)
    for series in (60 + rng.normal(0, 2, FIT_STEPS),  # noisy
                   60 + 0.01 * np.arange(FIT_STEPS),  # too small a rise
                   80 - 0.2 * np.arange(FIT_STEPS)):  # falling
        out = raise_for_trends(flat_forecast(level=60), history_with(MEM, series))
        assert np.array_equal(out, flat_forecast(level=60))


def test_a_model_forecast_already_above_the_line_is_kept():
    climb = 60 + 0.1 * np.arange(FIT_STEPS)
    out = raise_for_trends(flat_forecast(level=95), history_with(MEM, climb))
    assert np.array_equal(out, flat_forecast(level=95))


def counts_with(metric, series, n=1, base=5.0):
    values = np.full((n, 288, len(METRICS)), base, dtype=np.float32)
    values[:, -len(series):, METRICS.index(metric)] = series
    return values


def test_a_steady_close_wait_climb_is_extended_over_the_whole_horizon():
    climb = 20 + 5.0 * np.arange(LEAK_FIT_STEPS)  # +60 sockets an hour
    last, line = connection_lines(counts_with("back_close_wait", climb), 96)["back_close_wait"]
    assert last[0] == climb[-1]
    assert line[0, 0] == pytest.approx(climb[-1] + 5, abs=0.5)
    assert line[0, 95] == pytest.approx(climb[-1] + 5 * 96, abs=0.5)  # no cap, no reach limit


def test_close_wait_that_moves_with_traffic_or_noise_stays_flat_at_its_last_value():
    rng = np.random.default_rng(1)
    for series in (rng.poisson(30, LEAK_FIT_STEPS).astype(float),  # noisy, level
                   np.linspace(5, 40, LEAK_FIT_STEPS),  # a morning's traffic: too small a rise
                   np.linspace(400, 100, LEAK_FIT_STEPS)):  # draining
        last, line = connection_lines(counts_with("front_close_wait", series), 96)["front_close_wait"]
        assert np.all(line[0] == series[-1]) and last[0] == series[-1]


def test_a_server_gone_quiet_is_judged_on_its_last_reported_count():
    values = counts_with("back_close_wait", np.full(LEAK_FIT_STEPS, 42.0))
    values[:, -3:, :] = np.nan
    last, line = connection_lines(values, 96)["back_close_wait"]
    assert last[0] == 42 and np.all(line[0] == 42)
