"""Documents derived from a team's cached predictions, kept in Redis for the predictions' tick
(the dashboard's fleet view, one server's entry).

The prediction document is large (about 35 KB a server: 8-hour forecasts of six metrics at three
quantiles): parsing it takes seconds for a 1,000-server team, far too long for every page
refresh. Each derived document is computed once per tick instead (the run itself writes the
fleet view: inference.fleet_view) and stored beside the predictions, stamped with the tick; a
newer run changes the tick and so invalidates it, and forgetting a server deletes it
(inference.cache.drop_server)."""
import json

from core import keys
from core.redis import get_redis

TTL_SECONDS = 3600  # a derived document outlives its tick only if nobody looks again


def read_predictions(team_id):
    """(document dict, tick) of the team's cached predictions, or None. One transaction, so the
    document and its tick always belong together."""
    team = keys.team(team_id)
    pipe = get_redis().pipeline(transaction=True)
    pipe.get(team.predictions)
    pipe.hget(team.predictions_meta, "tick")
    raw, tick = pipe.execute()
    if raw is None or tick is None:
        return None
    return json.loads(raw), int(tick)


def current_tick(team_id):
    tick = get_redis().hget(keys.team(team_id).predictions_meta, "tick")
    return None if tick is None else int(tick)


def store(key, tick, value):
    get_redis().set(key, json.dumps({"tick": tick, "value": value}, separators=(",", ":")), ex=TTL_SECONDS)


def cached(key, team_id, build):
    """The document stored at key for the team's current tick; else build(predictions document)
    computed from the cached predictions and stored. None when there are no predictions."""
    client = get_redis()
    tick = current_tick(team_id)
    if tick is None:
        return None
    raw = client.get(key)
    if raw is not None:
        stored = json.loads(raw)
        if stored.get("tick") == tick:
            return stored["value"]
    predictions = read_predictions(team_id)
    if predictions is None:
        return None
    document, tick = predictions
    value = build(document)
    store(key, tick, value)
    return value
