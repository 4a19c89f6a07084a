"""Per-team, per-server rolling windows in Redis.

Each server's window is a list of packed records sorted by slot, its newest ARGUS_WINDOW_SLOTS
slots; the team's meta hash, seen zset and counts hash keep the totals (core/keys.py lists
every key).

A record is 61 bytes: slot (uint32, 5-minute slots since the epoch), status (uint8) and the 14
metrics as float32 in schema.METRICS order. Writes go through one Lua script per batch, so a
batch is stored whole or not at all, and concurrent batches of one team never interleave.
The scripts (core/lua/window_*.lua) read the time from Redis unless a test passes `now_ms`."""
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from core import keys
from core.redis import clock_arg, lua, run_script

from .records import Batch
from .schema import METRICS

RECORD = np.dtype([("slot", "<u4"), ("status", "u1"), ("values", "<f4", (len(METRICS),))])


@dataclass(frozen=True)
class TeamStats:
    tick: int
    points: int
    servers: int
    updated_ms: int = 0  # arrival of the last batch (Redis clock)

    @property
    def warmup_complete(self):
        return self.points >= settings.ARGUS_WARMUP_RECORDS


# Every window script starts by forgetting servers past their TTL (window_prune.lua).
APPEND_SCRIPT = lua("clock", "window_prune", "window_append")
STATS_SCRIPT = lua("clock", "window_prune", "window_stats")
FORGET_SCRIPT = lua("clock", "window_prune", "window_forget")
READ_SCRIPT = lua("clock", "window_prune", "window_read")


def _head(team_id, now_ms):
    """Keys and arguments of window_prune.lua, the head of every window script."""
    team = keys.team(team_id)
    return team, team.window_meta, [team.window_prefix, settings.ARGUS_SERVER_TTL * 1000, clock_arg(now_ms)]


def pack_batch(batch: Batch) -> dict:
    """server name -> that server's records as bytes, sorted by slot, one per slot (the last
    record sent for a slot wins, as a re-sent point replaces the stored one)."""
    code_of = {}
    codes = np.fromiter((code_of.setdefault(n, len(code_of)) for n in batch.server_names),
                        dtype=np.int64, count=len(batch))
    order = np.lexsort((np.arange(len(batch)), batch.slots, codes))  # server, slot, arrival
    packed = np.empty(len(batch), dtype=RECORD)
    packed["slot"] = batch.slots[order]
    packed["status"] = batch.statuses[order]
    packed["values"] = batch.values[order]
    codes = codes[order]
    # keep the last record of each (server, slot); then cut the rows into one run per server
    last_of_slot = np.append((codes[1:] != codes[:-1]) | (packed["slot"][1:] != packed["slot"][:-1]), True)
    packed, codes = packed[last_of_slot], codes[last_of_slot]
    starts = np.flatnonzero(np.append(True, codes[1:] != codes[:-1]))
    names = list(code_of)
    return {
        names[codes[start]]: packed[start:end].tobytes()
        for start, end in zip(starts, np.append(starts[1:], len(packed)))
    }


def append_batch(team_id, batch: Batch, now_ms=None) -> TeamStats:
    team, head_keys, head_args = _head(team_id, now_ms)
    blobs = pack_batch(batch)
    window_keys = [team.window(name) for name in blobs]
    args = [*head_args, RECORD.itemsize, settings.ARGUS_WINDOW_SLOTS, *blobs.values()]
    tick, points, servers = run_script(APPEND_SCRIPT, head_keys + window_keys, args)
    return TeamStats(tick, points, servers)


def team_stats(team_id, now_ms=None) -> TeamStats:
    _, head_keys, head_args = _head(team_id, now_ms)
    return TeamStats(*run_script(STATS_SCRIPT, head_keys, head_args))


def forget_server(team_id, server_name: str, now_ms=None):
    """Drops a server's window now (a decommissioned server). Returns the points it held, or
    None if the team has no such server."""
    _, head_keys, head_args = _head(team_id, now_ms)
    held = run_script(FORGET_SCRIPT, head_keys, [*head_args, server_name])
    return None if held < 0 else held


@dataclass(frozen=True)
class Snapshot:
    """A team's windows at one tick: server name -> RECORD array sorted by slot."""

    tick: int
    updated_ms: int  # arrival of the last batch (Redis clock)
    windows: dict
    arrivals_ms: dict  # server name -> arrival of its last point (Redis clock)


def read_windows(team_id, now_ms=None) -> Snapshot:
    """All of a team's windows and its tick, consistent with each other, in one round trip."""
    _, head_keys, head_args = _head(team_id, now_ms)
    tick, updated, *flat = run_script(READ_SCRIPT, head_keys, head_args)
    windows, arrivals = {}, {}
    for name, arrival, blob in zip(flat[::3], flat[1::3], flat[2::3]):
        if blob:
            windows[name.decode()] = np.frombuffer(blob, dtype=RECORD)
            arrivals[name.decode()] = int(float(arrival))
    return Snapshot(tick, updated, windows, arrivals)
