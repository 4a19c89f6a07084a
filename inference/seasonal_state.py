"""Where each server's SeasonalState lives between runs: one Redis string per server
(core.keys: seasonal:<server>), read and written in bounded batches, expiring with the server
(ARGUS_SERVER_TTL) and deleted when the server is forgotten."""
import logging
import struct

from django.conf import settings

from core import keys
from core.redis import get_redis

from .seasonal import SeasonalState

log = logging.getLogger(__name__)
BATCH = 1000  # keys per Redis call


def load_states(team_id, names: list) -> list:
    """A SeasonalState per server name (a new one where none is kept or it is unreadable)."""
    team, redis = keys.team(team_id), get_redis()
    states = []
    for start in range(0, len(names), BATCH):
        for name, blob in zip(names[start:start + BATCH],
                              redis.mget([team.seasonal(n) for n in names[start:start + BATCH]])):
            try:
                states.append(SeasonalState.unpack(blob) if blob else SeasonalState.new())
            except (ValueError, struct.error):  # another layout (an older Argus): start afresh
                log.warning("team %s server %s: unreadable seasonal state, starting afresh", team_id, name)
                states.append(SeasonalState.new())
    return states


def save_states(team_id, names: list, states: list):
    team, ttl_ms = keys.team(team_id), settings.ARGUS_SERVER_TTL * 1000
    for start in range(0, len(names), BATCH):
        pipe = get_redis().pipeline(transaction=False)
        for name, state in zip(names[start:start + BATCH], states[start:start + BATCH]):
            pipe.set(team.seasonal(name), state.pack(), px=ttl_ms)
        pipe.execute()


def forget_state(team_id, name: str):
    get_redis().delete(keys.team(team_id).seasonal(name))
