"""One server-day of points as one compact blob (the data of a history.models.ServerDay row).

Layout, version 1: a version byte; the presence bitmap of the day's 288 slots (36 bytes, slot 0
in the first byte's high bit); then zlib of the present points only: their statuses (uint8
each), then the 14 metrics (schema.METRICS order) as float32, column by column (a metric's
day side by side is what zlib finds repetition in: 57 bytes a point become about 26 on the
simulated fleet; byte-shuffling the floats first made it 28). Values are float32, as in the
Redis windows."""
import zlib
from dataclasses import dataclass

import numpy as np

from feeds.schema import METRICS, SLOTS_PER_DAY

VERSION = 1
BITMAP_BYTES = SLOTS_PER_DAY // 8
ZLIB_LEVEL = 6


@dataclass
class Day:
    """A day's slots: present[i] tells whether slot i holds a point; absent slots hold zeros."""

    present: np.ndarray  # bool [288]
    statuses: np.ndarray  # uint8 [288], index into schema.STATUSES
    values: np.ndarray  # float32 [288, len(METRICS)]

    @classmethod
    def empty(cls):
        return cls(np.zeros(SLOTS_PER_DAY, bool), np.zeros(SLOTS_PER_DAY, np.uint8),
                   np.zeros((SLOTS_PER_DAY, len(METRICS)), np.float32))

    @property
    def points(self) -> int:
        return int(self.present.sum())

    def put(self, slots, statuses, values):
        """Stores points at slot indices 0-287 of the day; a point replaces the slot's earlier one."""
        self.present[slots] = True
        self.statuses[slots] = statuses
        self.values[slots] = values


def encode(day: Day) -> bytes:
    columns = np.ascontiguousarray(day.values[day.present].T)  # [metric, point]
    body = day.statuses[day.present].tobytes() + columns.tobytes()
    return bytes([VERSION]) + np.packbits(day.present).tobytes() + zlib.compress(body, ZLIB_LEVEL)


def decode(blob) -> Day:
    blob = bytes(blob)  # the database may hand back a memoryview
    if blob[0] != VERSION:
        raise ValueError(f"unknown history day format {blob[0]}")
    present = np.unpackbits(np.frombuffer(blob, np.uint8, BITMAP_BYTES, offset=1)).astype(bool)
    body = np.frombuffer(zlib.decompress(blob[1 + BITMAP_BYTES:]), np.uint8)
    n = int(present.sum())
    day = Day.empty()
    day.present = present
    day.statuses[present] = body[:n]
    columns = body[n:].view(np.float32).reshape(len(METRICS), n)
    day.values[present] = columns.T
    return day
