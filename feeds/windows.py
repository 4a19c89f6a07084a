"""Per-team, per-server rolling windows in Redis.

Each server's window is a list of packed records sorted by slot, its newest ARGUS_WINDOW_SLOTS
slots; the team's meta hash, seen zset and counts hash keep the totals (core/keys.py lists
every key).

A record is 61 bytes: slot (uint32, 5-minute slots since the epoch), status (uint8) and the 14
metrics as float32 in schema.METRICS order. Writes go through one Lua script per batch, so a
batch is stored whole or not at all, and concurrent batches of one team never interleave.
The scripts (core/lua/window_*.lua) read the time from Redis unless a test passes `now_ms`.
The append script also writes each batch to the team's history stream, in the same step."""
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from core import keys
from core.redis import clock_arg, get_redis, lua, run_script

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
# Servers whose windows one round trip of read_windows fetches: 500 x 288 records x 61 bytes
# is under 9 MB, and each command in it (one LRANGE of one window) is short, so a team of
# 50,000 servers never holds Redis for long (one script reading them all held it 15.5 s).
READ_CHUNK = 500


class LimitExceeded(Exception):
    """A batch would take the team past one of its limits; nothing of it was stored."""

    def __init__(self, setting, held, adding, limit, retry_after):
        self.setting, self.held, self.adding, self.limit = setting, held, adding, limit
        self.retry_after = retry_after  # seconds until the limit allows this batch (0: not by waiting)
        if setting == "ARGUS_MAX_SERVERS_PER_TEAM":
            text = (f"Batch adds {adding} new servers to the {held} this team holds; the limit is "
                    f"{limit} servers per team ({setting}). Nothing was stored. Forget servers with "
                    f"DELETE /feed/servers/<name> or ask for a higher limit.")
        else:
            text = (f"Batch adds {adding} new servers; this team added {held} in the last hour and the "
                    f"limit is {limit} new servers per hour ({setting}). Nothing was stored; retry "
                    f"in {retry_after} seconds.")
        super().__init__(text)


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


def append_batch(team_id, batch: Batch, now_ms=None, limits=None) -> TeamStats:
    """Stores the batch, or raises LimitExceeded (storing nothing) if its new servers would take
    the team past `limits` (servers held, new servers per hour; default: the settings).

    The same script appends the batch's records to the team's history stream (core/keys.py),
    which the history app drains into the database: feeds writes it and knows nothing more."""
    max_servers, max_new = limits or (settings.ARGUS_MAX_SERVERS_PER_TEAM, settings.ARGUS_MAX_NEW_SERVERS_PER_HOUR)
    team, head_keys, head_args = _head(team_id, now_ms)
    blobs = pack_batch(batch)
    window_keys = [team.window(name) for name in blobs]
    args = [*head_args, RECORD.itemsize, settings.ARGUS_WINDOW_SLOTS, max_servers, max_new,
            settings.ARGUS_HISTORY_BUFFER_SLOTS, *blobs.values()]
    result = run_script(APPEND_SCRIPT, [*head_keys, team.new_servers, team.history_stream, team.history_state,
                                        *window_keys], args)
    if result[0] == b"limit":
        setting, held, adding, retry_ms = result[1].decode(), *result[2:]
        limit = max_servers if setting == "ARGUS_MAX_SERVERS_PER_TEAM" else max_new
        raise LimitExceeded(setting, held, adding, limit, -(-int(retry_ms) // 1000))
    tick, points, servers = result
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


def holds_server(team_id, server_name: str) -> bool:
    """True if the team's windows hold the server now."""
    return get_redis().zscore(keys.team(team_id).seen, server_name) is not None


@dataclass(frozen=True)
class Snapshot:
    """A team's windows at one tick: server name -> RECORD array sorted by slot."""

    tick: int
    updated_ms: int  # arrival of the last batch (Redis clock)
    windows: dict
    arrivals_ms: dict  # server name -> arrival of its last point (Redis clock)


def read_windows(team_id, now_ms=None, chunk=READ_CHUNK) -> Snapshot:
    """All of a team's windows and its tick, READ_CHUNK servers per round trip (no single Redis
    call reads more than one window, plus one listing of the team's server names, at most
    ARGUS_MAX_SERVERS_PER_TEAM of them).

    Not one atomic snapshot: a batch stored during the read may show in the windows read after
    it. `tick` is read first, so the windows hold at least the points of that tick, and a run
    labelled with it never claims more than it covers."""
    servers = list_servers(team_id, now_ms)
    windows, arrivals = {}, {}
    for names in (servers.names[i:i + chunk] for i in range(0, len(servers.names), chunk)):
        windows_chunk = read_server_windows(team_id, names)
        windows.update(windows_chunk)
        arrivals.update((name, servers.arrivals_ms[name]) for name in windows_chunk)
    return Snapshot(servers.tick, servers.updated_ms, windows, arrivals)


@dataclass(frozen=True)
class ServerList:
    tick: int
    updated_ms: int
    names: list  # sorted
    arrivals_ms: dict


def list_servers(team_id, now_ms=None) -> ServerList:
    """The team's tick and servers (after forgetting expired ones), without their windows."""
    team, head_keys, head_args = _head(team_id, now_ms)
    run_script(STATS_SCRIPT, head_keys, head_args)  # forgets servers past the TTL (bounded)
    pipe = get_redis().pipeline(transaction=True)
    pipe.hmget(team.meta, "tick", "updated")
    pipe.zrange(team.seen, 0, -1, withscores=True)
    (tick, updated), seen = pipe.execute()
    arrivals = {name.decode(): int(score) for name, score in seen}
    return ServerList(int(tick or 0), int(updated or 0), sorted(arrivals), arrivals)


def read_server_windows(team_id, names) -> dict:
    """server name -> RECORD array of the named servers, in one round trip (servers with no
    window, forgotten meanwhile, are left out)."""
    team = keys.team(team_id)
    pipe = get_redis().pipeline(transaction=False)
    for name in names:
        pipe.lrange(team.window(name), 0, -1)
    return {name: np.frombuffer(b"".join(records), dtype=RECORD)
            for name, records in zip(names, pipe.execute()) if records}
