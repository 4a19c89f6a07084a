"""The prediction cache: one JSON document per team (and its alerts), written by workers,
read by the API. Reads never run the model.

  argus:{<team>}:predictions       the /predictions/current document (JSON, without age_seconds)
  argus:{<team>}:alerts            the /alerts/active document (JSON)
  argus:{<team>}:predictions:meta  hash: tick, generated_at (epoch s), model, runs (completed)

A write replaces all three at once and only if its tick is not older than the stored one, so
a slow or redelivered run can never overwrite a newer document."""
import json
import time

from feeds.redis_client import get_redis, run_script
from feeds.windows import team_prefix

WRITE_IF_NEWER = """
redis.call('HINCRBY', KEYS[3], 'runs', 1)
local stored = tonumber(redis.call('HGET', KEYS[3], 'tick') or '-1')
if tonumber(ARGV[3]) < stored then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('HSET', KEYS[3], 'tick', ARGV[3], 'generated_at', ARGV[4], 'model', ARGV[5])
return 1
"""


def _keys(team_id):
    prefix = team_prefix(team_id)
    return [prefix + "predictions", prefix + "alerts", prefix + "predictions:meta"]


def store_predictions(team_id, document: dict, alerts: dict) -> bool:
    """Writes both documents atomically; False if a newer tick is already stored."""
    args = [json.dumps(document, separators=(",", ":")), json.dumps(alerts, separators=(",", ":")),
            document["tick"], document["generated_at"], document["model"]["version"]]
    return bool(run_script(WRITE_IF_NEWER, _keys(team_id), args))


def prediction_meta(team_id):
    """{'tick', 'generated_at', 'model', 'runs'} of the stored document, or None."""
    meta = get_redis().hgetall(_keys(team_id)[2])
    if not meta:
        return None
    return {"tick": int(meta[b"tick"]), "generated_at": float(meta[b"generated_at"]),
            "model": meta[b"model"].decode(), "runs": int(meta[b"runs"])}


def predictions_json(team_id):
    """The stored document as JSON bytes with `age_seconds` spliced in first, or None.
    No parsing: a 45-server document is ~1.6 MB and reads must stay fast."""
    pipe = get_redis().pipeline(transaction=True)
    pipe.get(_keys(team_id)[0])
    pipe.hget(_keys(team_id)[2], "generated_at")
    document, generated_at = pipe.execute()
    if document is None:
        return None
    age = max(0.0, time.time() - float(generated_at))
    return b'{"age_seconds":%.1f,' % age + document[1:]


def alerts_json(team_id):
    return get_redis().get(_keys(team_id)[1])
