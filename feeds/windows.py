"""Per-team, per-server rolling windows in Redis.

Layout (every key carries the team in a hash tag, so a team lives on one Redis Cluster shard):
  argus:{<team>}:meta          hash: tick (accepted batches), points (points held),
                               updated (arrival of the last batch, ms)
  argus:{<team>}:seen          zset: server -> last arrival (ms, Redis clock), for the server TTL
  argus:{<team>}:counts        hash: server -> points held
  argus:{<team>}:w:<server>    list of packed records sorted by slot, newest ARGUS_WINDOW_SLOTS slots

A record is 61 bytes: slot (uint32, 5-minute slots since the epoch), status (uint8) and the 14
metrics as float32 in schema.METRICS order. Writes go through one Lua script per batch, so a
batch is stored whole or not at all, and concurrent batches of one team never interleave."""
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings

from .records import Batch
from .redis_client import run_script
from .schema import METRICS

RECORD = np.dtype([("slot", "<u4"), ("status", "u1"), ("values", "<f4", (len(METRICS),))])
LUA_DIR = Path(__file__).parent / "lua"


@dataclass(frozen=True)
class TeamStats:
    tick: int
    points: int
    servers: int
    updated_ms: int = 0  # arrival of the last batch (Redis clock)

    @property
    def warmup_complete(self):
        return self.points >= settings.ARGUS_WARMUP_RECORDS


def team_prefix(team_id) -> str:
    return f"argus:{{{team_id}}}:"


def _team_keys(team_id):
    prefix = team_prefix(team_id)
    return [prefix + "meta", prefix + "seen", prefix + "counts"], prefix + "w:"


def _lua(name):
    return (LUA_DIR / f"{name}.lua").read_text()


# Both scripts start by forgetting servers past their TTL (prune.lua).
APPEND_SCRIPT = _lua("prune") + _lua("append")
STATS_SCRIPT = _lua("prune") + _lua("stats")
FORGET_SCRIPT = _lua("prune") + _lua("forget")
READ_SCRIPT = _lua("prune") + _lua("read")


def _ttl_ms():
    return settings.ARGUS_SERVER_TTL * 1000


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


def append_batch(team_id, batch: Batch) -> TeamStats:
    meta_keys, window_prefix = _team_keys(team_id)
    blobs = pack_batch(batch)
    keys = meta_keys + [window_prefix + name for name in blobs]
    args = [window_prefix, _ttl_ms(), RECORD.itemsize, settings.ARGUS_WINDOW_SLOTS, *blobs.values()]
    tick, points, servers = run_script(APPEND_SCRIPT, keys, args)
    return TeamStats(tick, points, servers)


def team_stats(team_id) -> TeamStats:
    meta_keys, window_prefix = _team_keys(team_id)
    return TeamStats(*run_script(STATS_SCRIPT, meta_keys, [window_prefix, _ttl_ms()]))


def forget_server(team_id, server_name: str):
    """Drops a server's window now (a decommissioned server). Returns the points it held, or
    None if the team has no such server."""
    meta_keys, window_prefix = _team_keys(team_id)
    held = run_script(FORGET_SCRIPT, meta_keys, [window_prefix, _ttl_ms(), server_name])
    return None if held < 0 else held


@dataclass(frozen=True)
class Snapshot:
    """A team's windows at one tick: server name -> RECORD array sorted by slot."""

    tick: int
    updated_ms: int  # arrival of the last batch (Redis clock)
    windows: dict
    arrivals_ms: dict  # server name -> arrival of its last point (Redis clock)


def read_windows(team_id) -> Snapshot:
    """All of a team's windows and its tick, consistent with each other, in one round trip."""
    meta_keys, window_prefix = _team_keys(team_id)
    tick, updated, *flat = run_script(READ_SCRIPT, meta_keys, [window_prefix, _ttl_ms()])
    windows, arrivals = {}, {}
    for name, arrival, blob in zip(flat[::3], flat[1::3], flat[2::3]):
        if blob:
            windows[name.decode()] = np.frombuffer(blob, dtype=RECORD)
            arrivals[name.decode()] = int(float(arrival))
    return Snapshot(tick, updated, windows, arrivals)
