"""A run's document, assembled from its parts: one part for a team run in one process, one per
shard for a team split across workers (inference.sharding). Either way the document is built
here, once per run, from the whole fleet:

  - staleness is judged against the newest point of the whole team, not of one shard;
  - the summary (counts, fleet health, fleet probabilities) sums every server;
  - the alert timeline (timeline app) advances once, with every server's scores, so an alert of
    a server in one shard is never closed because another shard did not see it;
  - the document and its alerts replace the cached ones whole, in one step (inference.cache),
    so no reader ever sees half a fleet; the fleet view (the dashboard's) follows in a second
    write, and a reader finding it behind rebuilds it (inference.derived).

Each part carries its servers' entries already serialised (JSON text, one line each): joining
bytes costs milliseconds where parsing and re-serialising a 10,000-server document cost
seconds. Live accuracy (inference.accuracy) and the seasonal states are per server and are
written by the part that forecast the server; they need nothing from the merge."""
import json
import logging
import time
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from core import keys
from core.redis import get_redis
from core.times import iso
from feeds.schema import SLOT_SECONDS

from . import cache
from .alert_timeline import advance_timeline
from .fleet_view import store_fleet_view, view_of
from .scoring import ServerScore, fleet_probability

log = logging.getLogger(__name__)

LEVELS = ("critical", "warning", "degraded", "healthy")
COMPACT = (",", ":")


@dataclass
class ServerPart:
    """What the merge needs of one forecast server besides its serialised entry."""

    name: str
    end_slot: int  # its newest slot (staleness is judged against the whole team's newest)
    gaps: bool
    risk: float  # ServerScore.risk, unrounded (fleet health averages it)
    level: str
    prob_30m: float
    prob_8h: float
    risks: dict  # metric -> risk (the alert timeline's reading of a metric that did not alert)
    row: dict  # its line of the fleet view (inference.fleet_view)

    def as_list(self) -> list:
        return [self.name, self.end_slot, self.gaps, self.risk, self.level, self.prob_30m, self.prob_8h,
                self.risks, self.row]


@dataclass
class ShardResult:
    """One part of a run: `fragment` holds the servers' entries, one JSON object a line, in the
    order of `servers`; `meta` everything else (small: about 500 bytes a server)."""

    fragment: bytes
    servers: list  # [ServerPart]
    alerts: list
    insufficient: dict  # server -> points held, for servers with too little history
    newest: int | None  # the newest slot of every server read (None: no server read)
    model: str  # the model version that forecast it
    seconds: float
    worker: str = ""  # the process that computed it (inference.worker.worker_id), "" for this one

    @classmethod
    def of(cls, bodies, servers, alerts, insufficient, newest, model, seconds):
        return cls("\n".join(bodies).encode(), servers, alerts, insufficient, newest, model, seconds)

    def meta_json(self) -> bytes:
        return json.dumps({"servers": [s.as_list() for s in self.servers], "alerts": self.alerts,
                           "insufficient": self.insufficient, "newest": self.newest, "model": self.model,
                           "seconds": round(self.seconds, 3), "worker": self.worker},
                          separators=COMPACT, allow_nan=False).encode()

    @classmethod
    def from_stored(cls, fragment: bytes, meta_json: bytes):
        meta = json.loads(meta_json)
        return cls(fragment, [ServerPart(*s) for s in meta["servers"]], meta["alerts"], meta["insufficient"],
                   meta["newest"], meta["model"], meta["seconds"], meta["worker"])

    def entries(self):
        """(server, its serialised entry) in order."""
        bodies = self.fragment.split(b"\n") if self.servers else []
        if len(bodies) != len(self.servers):
            raise ValueError(f"a part holds {len(bodies)} entries for {len(self.servers)} servers")
        return zip(self.servers, bodies)


@dataclass
class RunHead:
    """What the whole run shares: its team and tick, when it was generated, the model."""

    team_id: int
    tick: int
    generated_at: float  # epoch s
    model: dict  # {"version", "device"}
    started: float  # time.perf_counter() of the process that publishes


def model_of(forecaster) -> dict:
    return {"version": forecaster.version, "device": forecaster.device}


def publish_run(run: RunHead, results: list, known: list) -> dict:
    """Assembles the run's document from its parts (in shard order), advances the alert timeline
    and caches the document, its alerts and its fleet view. `known`: every server the team held
    when the run began. Returns the run's summary (for logs and tests)."""
    merge_started = time.perf_counter()
    newest = max((r.newest for r in results if r.newest is not None), default=None)
    if newest is None:
        return {"tick": run.tick, "servers": 0, "stored": False}
    stale_slots = settings.ARGUS_STALE_SECONDS // SLOT_SECONDS
    servers = [s for r in results for s in r.servers]
    for s in servers:
        s.row["stale"] = newest - s.end_slot > stale_slots
    insufficient = dict(sorted(item for r in results for item in r.insufficient.items()))
    alerts = sorted((a for r in results for a in r.alerts), key=lambda a: (-a["risk_score"], a["server_name"]))
    timestamp = iso(run.generated_at)
    head = {
        "timestamp": timestamp,
        "generated_at": round(run.generated_at, 3),
        "data_timestamp": iso(newest * SLOT_SECONDS),
        "tick": run.tick,
        "model": run.model,
        "summary": summarise(servers, len(insufficient)),
    }
    scores = [(s.name, ServerScore(s.risk, {"level": s.level}, {m: {"risk": r} for m, r in s.risks.items()},
                                   [], s.prob_30m, s.prob_8h)) for s in servers]
    advance_timeline(run.team_id, run.tick, known, scores, alerts, newest)  # stamps each alert's `since`
    alerts_json = json.dumps(alerts, separators=COMPACT, allow_nan=False).encode()
    document = join_document(head, results, alerts_json, insufficient)
    compute_seconds = round(time.perf_counter() - run.started, 3)
    document += b',"compute_seconds":%s}' % json.dumps(compute_seconds).encode()
    alerts_document = b'{"timestamp":%s,"tick":%d,"count":%d,"alerts":%s}' % (
        json.dumps(timestamp).encode(), run.tick, len(alerts), alerts_json)
    stored = cache.store_predictions_json(run.team_id, memoryview(document), alerts_document, run.tick,
                                          head["generated_at"], run.model["version"])
    del document
    if stored:
        store_fleet_view(run.team_id, run.tick, view_of({**head, "alerts": alerts, "insufficient_history": insufficient},
                                                        [s.row for s in sorted(servers, key=lambda s: s.name)]))
    for index, result in enumerate(results):
        shard_merged(run.team_id, index, result)
    merge_seconds = time.perf_counter() - merge_started
    keep_run_stats(run, results, len(servers), merge_seconds, compute_seconds)
    log.info("team %s tick %s: %d servers forecast in %d part(s), %d alerts, %.2fs (merge %.2fs)%s",
             run.team_id, run.tick, len(servers), len(results), len(alerts), compute_seconds, merge_seconds,
             "" if stored else " (newer kept)")
    return {"tick": run.tick, "servers": len(servers), "stored": stored, "shards": len(results), **head["summary"]}


def shard_merged(team_id, index: int, result: ShardResult):
    """Called once per part (shard) of a run as the merge takes it in, whoever computed it and
    however often it was redone: the one place to count shards (e.g. a Prometheus counter)."""
    log.debug("team %s: shard %d merged (%d servers, %.2fs, model %s, worker %s)", team_id, index,
              len(result.servers), result.seconds, result.model, result.worker or "this process")


def summarise(servers: list, insufficient: int) -> dict:
    levels = [s.level for s in servers]
    return {
        "total_servers": len(servers),
        **{level: levels.count(level) for level in LEVELS},
        "fleet_health": round(float(np.mean([100 - s.risk for s in servers])), 1) if servers else 100.0,
        "prob_30m": round(fleet_probability([s.prob_30m for s in servers]), 4),
        "prob_8h": round(fleet_probability([s.prob_8h for s in servers]), 4),
        "stale_servers": sum(s.row["stale"] for s in servers),
        "insufficient_history": insufficient,
    }


def join_document(head: dict, results: list, alerts_json: bytes, insufficient: dict) -> bytearray:
    """The predictions document as JSON bytes, without its closing brace: the head's fields, the
    servers' entries in name order (each closed with its `stale` and `gaps`), the alerts and
    the servers waiting for history. Each part's fragment is released once copied in."""
    out = bytearray(json.dumps(head, separators=COMPACT, allow_nan=False).encode()[:-1])
    entries = sorted((pair for r in results for pair in r.entries()), key=lambda pair: pair[0].name)
    for r in results:
        r.fragment = b""
    out += b',"predictions":{'
    for k, (server, body) in enumerate(entries):
        if k:
            out += b","
        out += json.dumps(server.name).encode()
        out += b":"
        out += body[:-1]
        out += b',"stale":%s,"gaps":%s}' % (b"true" if server.row["stale"] else b"false",
                                            b"true" if server.gaps else b"false")
    del entries
    out += b'},"alerts":'
    out += alerts_json
    out += b',"insufficient_history":'
    out += json.dumps(insufficient, separators=COMPACT).encode()
    return out


def keep_run_stats(run: RunHead, results: list, servers: int, merge_seconds: float, compute_seconds: float):
    """The team's last run in figures (run:stats, core/keys.py): each part's servers, seconds and
    worker, and the merge's own seconds, for operators and bench/shards.py."""
    stats = {"tick": run.tick, "servers": servers, "compute_seconds": compute_seconds,
             "merge_seconds": round(merge_seconds, 3), "at": round(time.time(), 3),
             "shards": [{"servers": len(r.servers) + len(r.insufficient), "seconds": round(r.seconds, 3),
                         "worker": r.worker, "model": r.model} for r in results]}
    get_redis().set(keys.team(run.team_id).run_stats, json.dumps(stats, separators=COMPACT),
                    ex=settings.ARGUS_PREDICTIONS_TTL)
