"""The prediction cache: one JSON document per team (and its alerts), written by workers,
read by the API. Reads never run the model.

  predictions       the /predictions/current document (JSON, without age_seconds)
  alerts            the /alerts/active document (JSON)
  predictions:meta  hash: tick, generated_at (epoch s), model, runs (completed)

A write replaces all three at once and only if its tick is not older than the stored one
(core/lua/cache_write.lua), so a slow or redelivered run can never overwrite a newer document."""
import json
import time

from core import keys
from core.redis import get_redis, lua, run_script

WRITE_IF_NEWER = lua("cache_write")


def store_predictions(team_id, document: dict, alerts: dict) -> bool:
    """Writes both documents atomically; False if a newer tick is already stored."""
    team = keys.team(team_id)
    # allow_nan=False: a NaN or infinity would make the served document invalid JSON; the run
    # fails loudly instead (and the previous document stays).
    args = [json.dumps(document, separators=(",", ":"), allow_nan=False),
            json.dumps(alerts, separators=(",", ":"), allow_nan=False),
            document["tick"], document["generated_at"], document["model"]["version"]]
    return bool(run_script(WRITE_IF_NEWER, [team.predictions, team.alerts, team.predictions_meta], args))


def prediction_meta(team_id):
    """{'tick', 'generated_at', 'model', 'runs'} of the stored document, or None."""
    meta = get_redis().hgetall(keys.team(team_id).predictions_meta)
    if not meta:
        return None
    return {"tick": int(meta[b"tick"]), "generated_at": float(meta[b"generated_at"]),
            "model": meta[b"model"].decode(), "runs": int(meta[b"runs"])}


def predictions_json(team_id):
    """The stored document as JSON bytes with `age_seconds` spliced in first, or None.
    No parsing: a 45-server document is ~1.6 MB and reads must stay fast."""
    team = keys.team(team_id)
    pipe = get_redis().pipeline(transaction=True)
    pipe.get(team.predictions)
    pipe.hget(team.predictions_meta, "generated_at")
    document, generated_at = pipe.execute()
    if document is None:
        return None
    age = max(0.0, time.time() - float(generated_at))
    return b'{"age_seconds":%.1f,' % age + document[1:]


def alerts_json(team_id):
    return get_redis().get(keys.team(team_id).alerts)
