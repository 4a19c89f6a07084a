"""Aligning a team's windows for the model: the grid, gap filling, staleness."""
import numpy as np

from feeds.schema import METRICS
from feeds.windows import RECORD, Snapshot
from inference.runner import align, fill_short_gaps


def window(slots, value_of=lambda s: float(s % 100)):
    records = np.zeros(len(slots), dtype=RECORD)
    records["slot"] = slots
    records["values"] = np.array([[value_of(s)] * len(METRICS) for s in slots], dtype=np.float32)
    return records


def snapshot(**windows):
    return Snapshot(tick=1, updated_ms=0, windows=windows, arrivals_ms={k: 0 for k in windows})


def test_each_window_ends_at_its_servers_newest_slot():
    inputs = align(snapshot(a=window([100, 101, 102]), b=window([90, 91])), slots=5, max_fill_slots=6, stale_slots=12)
    assert inputs.names == ["a", "b"]
    assert list(inputs.end_slots) == [102, 91]
    assert np.isnan(inputs.values[0, :2]).all() and list(inputs.values[0, 2:, 0]) == [100 % 100, 1, 2]
    assert list(inputs.values[1, 3:, 0]) == [90, 91]
    assert list(inputs.last_records["slot"]) == [102, 91]


def test_short_gaps_are_interpolated_and_long_ones_marked():
    inputs = align(snapshot(short=window([10, 13]), long=window([10, 20])), slots=11, max_fill_slots=3, stale_slots=12)
    short, long = inputs.values[1], inputs.values[0]
    assert list(short[-4:, 0]) == [10, 11, 12, 13]
    assert not inputs.gaps[1]
    assert inputs.gaps[0] and np.isnan(long[1:10, 0]).all()


def test_servers_lagging_the_team_by_more_than_the_limit_are_stale():
    inputs = align(snapshot(fresh=window([200]), late=window([188]), later=window([187])),
                   slots=3, max_fill_slots=6, stale_slots=12)
    assert dict(zip(inputs.names, inputs.stale)) == {"fresh": False, "late": False, "later": True}


def test_filling_leaves_a_window_with_one_point_alone():
    values = np.full((5, len(METRICS)), np.nan, dtype=np.float32)
    values[4] = 1.0
    assert fill_short_gaps(values, 3) is False
    assert np.isnan(values[:4]).all()
