"""The rows the lagged inputs read: a server's own yesterday, or its first day while it has none."""
import numpy as np
from model_fixtures import REPO  # noqa: F401  (puts the repo on sys.path)

from inference.model.frames import yesterday_rows


def _ramp(n_slots, first_data=0):
    """values [1, n, 14]: every metric equals its slot index, NaN before first_data."""
    v = np.repeat(np.arange(n_slots, dtype=np.float32)[None, :, None], 14, axis=2)
    v[:, :first_data] = np.nan
    return v


def test_a_server_with_two_days_reads_the_day_before_its_encoder():
    values = _ramp(600)
    rows = yesterday_rows(values, np.array([312]), lag=288)
    assert rows.shape == (1, 288, 14)
    np.testing.assert_array_equal(rows[0, :, 0], np.arange(24, 312))


def test_a_young_server_reads_its_first_day_as_its_yesterday():
    # data from slot 400 of 600: the encoder starts at 400, the day before it is not there
    values = _ramp(600, first_data=400)
    rows = yesterday_rows(values, np.array([400]), lag=288)[0, :, 0]
    # slot 112 + k is read from slot 400 + k while that exists, then the newest slot
    np.testing.assert_array_equal(rows[:200], np.arange(400, 600))
    np.testing.assert_array_equal(rows[200:], np.full(88, 599))


def test_gaps_in_yesterday_carry_the_last_value_forward():
    values = _ramp(600)
    values[0, 100:110] = np.nan
    rows = yesterday_rows(values, np.array([312]), lag=288)[0, :, 0]
    np.testing.assert_array_equal(rows[100 - 24:110 - 24], np.full(10, 99))


def test_without_a_lag_there_are_no_rows():
    assert yesterday_rows(_ramp(50), np.array([10]), lag=0).shape == (1, 0, 14)
