"""How much each API key is used: the time of its last request and its requests over the last
24 hours, counted in Redis by the same script that applies the key's rate limit
(core.throttles), so the feed pays no database write and no extra Redis round trip for it.

Every authenticated request counts, those refused with 429 too (a key hammering its limit is in
use). The day is counted in 10-minute buckets: "the last 24 hours" is the current bucket and the
143 before it (23 h 50 min to 24 h)."""
from dataclasses import dataclass

from . import keys
from .redis import get_redis

BUCKET_MS = 10 * 60 * 1000
BUCKETS = 24 * 6
# A key's hash lives this long after its last request. The admin copies last uses into the
# database as it shows them (feeds.key_usage), so a key idle for longer is still known as used.
LIFETIME_MS = 90 * 24 * 3600 * 1000
READ_CHUNK = 500  # keys per pipelined round trip when reading


@dataclass(frozen=True)
class KeyUsage:
    last_used_ms: int | None  # Redis clock; None: no request in the last 90 days
    requests_24h: int


NEVER = KeyUsage(None, 0)


def script_args() -> list:
    """ARGV[4:6] of key_usage.lua."""
    return [BUCKET_MS, BUCKETS, LIFETIME_MS]


def read_usage(api_keys) -> dict:
    """(team id, key prefix) pairs -> KeyUsage, on Redis's clock (the one that counted them),
    READ_CHUNK keys per round trip."""
    pairs = list(api_keys)
    found = {}
    client = get_redis()
    for start in range(0, len(pairs), READ_CHUNK):
        chunk = pairs[start:start + READ_CHUNK]
        pipe = client.pipeline(transaction=False)
        pipe.time()
        for team_id, prefix in chunk:
            pipe.hgetall(keys.team(team_id).usage(prefix))
        (seconds, micros), *hashes = pipe.execute()
        first_bucket = (seconds * 1000 + micros // 1000) // BUCKET_MS - BUCKETS + 1
        for (team_id, prefix), fields in zip(chunk, hashes):
            found[(team_id, prefix)] = _usage(fields, first_bucket)
    return found


def _usage(fields: dict, first_bucket: int) -> KeyUsage:
    if not fields:
        return NEVER
    last = fields.pop(b"last", None)
    recent = sum(int(count) for name, count in fields.items() if int(name[1:]) >= first_bucket)
    return KeyUsage(int(last) if last is not None else None, recent)


def forget_usage(team_id, key_prefix: str):
    """Deletes a key's counters (the key was deleted; they would expire by themselves)."""
    get_redis().delete(keys.team(team_id).usage(key_prefix))
