"""The prediction cache: one JSON document per team (and its alerts), written by workers,
read by the API. Reads never run the model.

  predictions       the /predictions/current document (JSON, without age_seconds)
  alerts            the /alerts/active document (JSON)
  predictions:meta  hash: tick, generated_at (epoch s), model, runs (completed)

A write replaces all three at once and only if its tick is not older than the stored one
(core/lua/cache_write.lua), so a slow or redelivered run can never overwrite a newer document."""
import json
import time

import redis
from django.conf import settings

from core import keys
from core.redis import get_redis, lua, run_script

WRITE_IF_NEWER = lua("cache_write")


def store_predictions(team_id, document: dict, alerts: dict) -> bool:
    """Writes both documents atomically; False if a newer tick is already stored."""
    # allow_nan=False: a NaN or infinity would make the served document invalid JSON; the run
    # fails loudly instead (and the previous document stays).
    return store_predictions_json(team_id, json.dumps(document, separators=(",", ":"), allow_nan=False),
                                  json.dumps(alerts, separators=(",", ":"), allow_nan=False),
                                  document["tick"], document["generated_at"], document["model"]["version"])


def store_predictions_json(team_id, document, alerts, tick, generated_at, model_version) -> bool:
    """As store_predictions, for documents already serialised (inference.assembly builds them as
    bytes from the run's parts)."""
    team = keys.team(team_id)
    args = [document, alerts, tick, generated_at, model_version, settings.ARGUS_PREDICTIONS_TTL]
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


def drop_server(team_id, server_name: str) -> bool:
    """Removes a forgotten server from the stored documents at once (its predictions, alerts
    and counts), instead of serving it until the next run. Optimistic: retried if a worker
    writes a document meanwhile. True if the server was in them."""
    team = keys.team(team_id)
    client = get_redis()
    with client.pipeline(transaction=True) as pipe:
        while True:
            try:
                pipe.watch(team.predictions, team.alerts)
                raw, raw_alerts = pipe.get(team.predictions), pipe.get(team.alerts)
                if raw is None:
                    return False
                document = json.loads(raw)
                entry = document["predictions"].pop(server_name, None)
                held = entry is not None or server_name in document.get("insufficient_history", {})
                if not held:
                    return False
                document.get("insufficient_history", {}).pop(server_name, None)
                document["alerts"] = [a for a in document["alerts"] if a["server_name"] != server_name]
                _remove_from_summary(document["summary"], entry, len(document.get("insufficient_history", {})))
                alerts = json.loads(raw_alerts) if raw_alerts else {"alerts": []}
                alerts["alerts"] = [a for a in alerts["alerts"] if a["server_name"] != server_name]
                alerts["count"] = len(alerts["alerts"])
                ttl = max(1, pipe.ttl(team.predictions))
                pipe.multi()
                pipe.set(team.predictions, json.dumps(document, separators=(",", ":"), allow_nan=False), ex=ttl)
                pipe.set(team.alerts, json.dumps(alerts, separators=(",", ":"), allow_nan=False), ex=ttl)
                # what was derived from the old document for its tick (the dashboard's views,
                # the server's explanation) would otherwise show the server until the next run
                pipe.delete(team.fleet_view, team.dashboard_servers, team.explanation(server_name))
                pipe.execute()
                return True
            except redis.WatchError:
                continue


def _remove_from_summary(summary, entry, insufficient):
    """The fleet summary without one server: counts exact; fleet_health and the fleet
    probabilities stay as computed until the next run (they need every server's scores)."""
    summary["insufficient_history"] = insufficient
    if entry is None:
        return
    summary["total_servers"] -= 1
    level = entry["alert"]["level"]
    if level in summary:
        summary[level] -= 1
    if entry.get("stale"):
        summary["stale_servers"] -= 1
