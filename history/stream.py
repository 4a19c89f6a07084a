"""A team's history stream, as the archiver sees it (core/keys.py names the keys).

feeds' append script adds one entry per accepted batch: {n: points, d: payload}, the payload
holding, per server, its name and its packed records (feeds.windows.RECORD). The archiver
reads the oldest entries, stores them, and only then deletes them (acknowledge), so a run cut
off anywhere leaves them for the next run. Runs of one team hold a lease so that they do not
interleave."""
import struct
from dataclasses import dataclass

import numpy as np

from core import keys
from core.redis import get_redis, lua, run_script
from feeds.windows import RECORD

ACKNOWLEDGE = lua("history_ack")
MARK_FORGOTTEN = lua("history_forget")
RENEW_LEASE = lua("run_refresh")  # generic: extend a lock only while its holder still has it
RELEASE_LEASE = lua("run_finish")
NAME_HEAD = struct.Struct("<H")
BLOB_HEAD = struct.Struct("<I")


def entry_id(raw) -> tuple:
    """(milliseconds, sequence) of a stream id such as b"1700000000000-3", for comparisons."""
    ms, _, seq = (raw.decode() if isinstance(raw, bytes) else raw).partition("-")
    return int(ms), int(seq)


@dataclass(frozen=True)
class Entry:
    id: bytes
    points: int
    payload: bytes

    def servers(self):
        """(server name, RECORD array sorted by slot) for each server of the batch."""
        pos, payload = 0, self.payload
        while pos < len(payload):
            (name_len,) = NAME_HEAD.unpack_from(payload, pos)
            pos += NAME_HEAD.size
            name = payload[pos:pos + name_len].decode()
            pos += name_len
            (blob_len,) = BLOB_HEAD.unpack_from(payload, pos)
            pos += BLOB_HEAD.size
            yield name, np.frombuffer(payload, RECORD, blob_len // RECORD.itemsize, offset=pos)
            pos += blob_len


def oldest_entries(team_id, count: int) -> list:
    raw = get_redis().xrange(keys.team(team_id).history_stream, count=count)
    return [Entry(id_, int(fields[b"n"]), fields[b"d"]) for id_, fields in raw]


def acknowledge(team_id, entries) -> int:
    """Deletes stored entries from the stream; returns the points removed."""
    team = keys.team(team_id)
    args = [value for entry in entries for value in (entry.id, entry.points)]
    return run_script(ACKNOWLEDGE, [team.history_stream, team.history_state, team.history_forgotten], args)


def forgotten_marks(team_id) -> dict:
    """server -> (ms, seq): the server's points in entries up to there were accepted before it
    was forgotten and must not be stored."""
    marks = get_redis().hgetall(keys.team(team_id).history_forgotten)
    return {name.decode(): entry_id(mark) for name, mark in marks.items()}


def mark_forgotten(team_id, server_name: str):
    team = keys.team(team_id)
    run_script(MARK_FORGOTTEN, [team.history_stream, team.history_forgotten], [server_name])


def pending_teams(team_ids) -> list:
    """The teams among `team_ids` whose stream holds entries (one round trip per 1,000 teams)."""
    found, client = [], get_redis()
    for i in range(0, len(team_ids), 1000):
        chunk = team_ids[i:i + 1000]
        pipe = client.pipeline(transaction=False)
        for team_id in chunk:
            pipe.xlen(keys.team(team_id).history_stream)
        found += [team_id for team_id, length in zip(chunk, pipe.execute()) if length]
    return found


def state(team_id) -> dict:
    """{"pending": points waiting in the stream, "dropped": points the bound trimmed, ever}."""
    pending, dropped = get_redis().hmget(keys.team(team_id).history_state, "pending", "dropped")
    return {"pending": int(pending or 0), "dropped": int(dropped or 0)}


def take_lease(team_id, token: str, seconds: int) -> bool:
    return bool(get_redis().set(keys.team(team_id).history_lock, token, nx=True, ex=seconds))


def renew_lease(team_id, token: str, seconds: int) -> bool:
    return bool(run_script(RENEW_LEASE, [keys.team(team_id).history_lock], [token, seconds]))


def release_lease(team_id, token: str):
    run_script(RELEASE_LEASE, [keys.team(team_id).history_lock], [token])
