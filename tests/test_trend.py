"""Exhaustion trends: steady memory and disk climbs lift the forecast; other shapes do not."""
import numpy as np

from inference.features import TARGETS
from inference.trend import FIT_STEPS, raise_for_trends

MEM, CPU = TARGETS.index("mem_used_pct"), TARGETS.index("cpu_pct")


def flat_forecast(n=1, level=60.0):
    return np.full((n, 96, len(TARGETS), 3), level, dtype=np.float32) + np.array([-2, 0, 2], dtype=np.float32)


def history_with(target, series, n=1):
    history = np.full((n, 288, len(TARGETS)), 50.0, dtype=np.float32)
    history[:, -len(series):, target] = series
    return history


def test_a_steady_memory_climb_extends_its_line():
    climb = 60 + 0.1 * np.arange(FIT_STEPS)  # +1.2 points an hour
    out = raise_for_trends(flat_forecast(level=60), history_with(MEM, climb))
    median = out[0, :, MEM, 1]
    assert median[0] > climb[-1] and median[47] > median[0] + 4  # keeps climbing for hours
    assert out[0, 47, MEM, 2] - out[0, 47, MEM, 1] == 2  # the band moves with it
    assert np.allclose(median[48:], median[47])  # no further than four hours


def test_the_same_climb_in_cpu_is_left_to_the_model():
    climb = 60 + 0.1 * np.arange(FIT_STEPS)
    out = raise_for_trends(flat_forecast(level=60), history_with(CPU, climb))
    assert np.array_equal(out, flat_forecast(level=60))


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
