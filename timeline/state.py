"""The open alerts of a team, in Redis (core/keys.py `alerts:state`): one hash field per open
alert, "<metric>\\t<server>" -> "level,since,lower_runs,lower_peak" (a tab never appears in a server
name: the feed refuses control characters), and "tick" -> the team tick of the run that wrote it.

Only open alerts are held: the hash is bounded by the team's servers times the scored metrics,
and a healthy fleet costs nothing. It lives with the team's other keys, so purging the team
deletes it."""
from core import keys
from core.redis import get_redis

from .hysteresis import OpenAlert

TICK_FIELD = b"tick"


def field(server: str, metric: str) -> str:
    return f"{metric}\t{server}"


def pair_of(raw_field: bytes):
    metric, _, server = raw_field.decode().partition("\t")
    return server, metric


def encode(alert: OpenAlert) -> str:
    return f"{alert.level},{alert.since},{alert.lower_runs},{alert.lower_peak}"


def decode(raw: bytes) -> OpenAlert:
    return OpenAlert(*map(int, raw.split(b",")))


def read(raw_hash: dict):
    """(the tick that wrote it, {(server, metric): OpenAlert}) from an HGETALL reply."""
    raw_hash = dict(raw_hash)
    tick = int(raw_hash.pop(TICK_FIELD, 0))
    return tick, {pair_of(f): decode(v) for f, v in raw_hash.items()}


def open_alerts(team_id) -> dict:
    """{(server, metric): OpenAlert} of the team."""
    return read(get_redis().hgetall(keys.team(team_id).alert_state))[1]


def forget_server(team_id, server_name: str) -> bool:
    """Drops the server's open alerts; True if it had any."""
    key = keys.team(team_id).alert_state
    client = get_redis()
    fields = [f for f in client.hkeys(key) if f != TICK_FIELD and pair_of(f)[0] == server_name]
    return bool(fields) and client.hdel(key, *fields) > 0
