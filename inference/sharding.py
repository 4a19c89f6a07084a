"""Sharded runs: one team's prediction run split across inference workers, merged into one document.

A team with more than ARGUS_SHARD_SERVERS servers has its run split into shards of that many
servers (contiguous slices of its sorted server names). The run is still one run for the
coordinated dispatch (inference.dispatch): the run_team task that holds the team's run lock is
the run's *coordinator*, and it keeps the lock's lease for the whole run, so "at most one run
per team at a time" and "the last batch is always covered" hold as before.

The coordinator
  1. writes the run's plan to Redis (core/keys.py run:<run>:*, <run> = its task id): the tick,
     the time the run is generated at, the model version and checksum every shard must use,
     and each shard's servers;
  2. queues one run_shard task per shard but the last, which any free worker takes;
  3. works on shards itself, claiming free ones from the top (so a team never waits on busy
     workers: with one worker process the coordinator does every shard), then waits for the
     shards other workers hold, taking over any whose lease ran out;
  4. once every shard's part is stored, merges them into one document and publishes it whole
     (inference.assembly: staleness, the summary and the alert timeline over the whole fleet),
     then deletes the run's keys.

A shard is *claimed* with a lease (ARGUS_RUN_LEASE, renewed every third of it while the shard
runs). A shard task whose pool process is killed is redelivered (acks_late, and
task_reject_on_worker_lost requeues it at once) with the same task id, and takes its shard back
at once; if the whole worker is gone, the lease runs out and the coordinator redoes the shard.
A shard task that fails gives its shard back at once. A shard stored twice (redone after its
lease ran out while the first holder was still alive) keeps the first part. A shard task that
arrives after its run was published or expired finds no plan and does nothing. A coordinator
that is redelivered (its worker died) finds its plan and resumes it: the parts already stored
are kept. Runs of one team never share keys, so if a run lost its lease and a newer one
started, both complete and the cache keeps the newest tick (inference.cache).

Every shard uses the run's model (LoadedModels.get(version, sha256)); a worker that cannot
load it falls back as LoadedModels.for_team does, and the part records the version it used, so
that the run reports the fallback (registry.serving.report)."""
import json
import logging
import math
import time
from contextlib import contextmanager
from dataclasses import dataclass

import redis
from celery import current_app
from django.conf import settings
from django.db import DatabaseError
from kombu.exceptions import OperationalError

from core import keys
from core.redis import clock_arg, get_redis, lua, run_script

from .assembly import RunHead, ShardResult, model_of, publish_run
from .dispatch import renewing
from .runner import forecast_servers

log = logging.getLogger(__name__)

SHARD_TASK = "inference.tasks.run_shard"
MAX_SHARDS = 1000  # shards per run: larger teams get larger shards (bounds the plan and the merge)
PLAN_GRACE_SECONDS = 60  # a plan outlives the coordinator's time limit by this much
WAIT_SECONDS = 0.05  # the coordinator's poll while other workers finish their shards
CLAIM = lua("clock", "shard_claim")
STORE = lua("shard_store")
RELEASE = lua("shard_release")
NONE_FREE, RUN_GONE = -1, -2


def splits(servers: int) -> bool:
    """True if a team of this many servers has its run split into shards."""
    return 0 < settings.ARGUS_SHARD_SERVERS < servers


def shard_size(servers: int) -> int:
    return max(settings.ARGUS_SHARD_SERVERS, math.ceil(servers / MAX_SHARDS))


@dataclass
class Plan:
    team_id: int
    run_id: str
    tick: int
    generated_at: float
    model: dict  # {"version", "device"} as the document states it
    sha256: str | None  # the registry checksum of the version (None: a worker's directory model)
    shards: int

    @property
    def keys(self):
        return keys.team(self.team_id).shard_run(self.run_id)


def make_plan(team_id, run_id, servers, forecaster, sha256) -> Plan:
    """Writes the run's plan (one transaction, with its lifetime) and returns it."""
    size = shard_size(len(servers.names))
    slices = [servers.names[i:i + size] for i in range(0, len(servers.names), size)]
    plan = Plan(team_id, run_id, servers.tick, time.time(), model_of(forecaster), sha256, len(slices))
    head = {"tick": plan.tick, "generated_at": plan.generated_at, "model": plan.model, "sha256": sha256}
    fields = {"head": json.dumps(head), "shards": len(slices)}
    for index, names in enumerate(slices):
        fields[f"s:{index}"] = json.dumps({"names": names, "arrivals": [servers.arrivals_ms[n] for n in names]})
    pipe = get_redis().pipeline(transaction=True)
    pipe.delete(*plan.keys.all)
    pipe.hset(plan.keys.plan, mapping=fields)
    pipe.expire(plan.keys.plan, settings.ARGUS_RUN_TIME_LIMIT + PLAN_GRACE_SECONDS)
    pipe.execute()
    return plan


def read_plan(team_id, run_id) -> Plan | None:
    head, shards = get_redis().hmget(keys.team(team_id).shard_run(run_id).plan, "head", "shards")
    if head is None or shards is None:
        return None
    head = json.loads(head)
    return Plan(team_id, run_id, head["tick"], head["generated_at"], head["model"], head["sha256"], int(shards))


def shard_servers(plan: Plan, index: int):
    """(server names, their last arrivals in ms) of one shard."""
    raw = get_redis().hget(plan.keys.plan, f"s:{index}")
    if raw is None:
        raise RunGone(plan)
    shard = json.loads(raw)
    return shard["names"], dict(zip(shard["names"], shard["arrivals"]))


class RunGone(Exception):
    """The run's plan expired under a running shard (the run took longer than its time limit)."""

    def __init__(self, plan):
        super().__init__(f"team {plan.team_id}: sharded run {plan.run_id} expired")


def claim(plan: Plan, holder: str, worker: str, index=None) -> int:
    """Claims shard `index` (or the highest free one): the shard, NONE_FREE or RUN_GONE."""
    return int(run_script(CLAIM, [plan.keys.plan, plan.keys.claims, plan.keys.done],
                          [clock_arg(None), holder, worker, settings.ARGUS_RUN_LEASE * 1000,
                           "" if index is None else index]))


@contextmanager
def keep_claim(plan: Plan, index: int, holder: str, worker: str):
    """Renews the shard's lease every third of ARGUS_RUN_LEASE while the block runs (as
    dispatch.keep_lease does for the run's lock). A renewal Redis cannot answer is retried at
    the next beat; a lease lost meanwhile means the shard may be done twice, which is harmless:
    the first part stored wins."""
    with renewing(lambda: claim(plan, holder, worker, index) == index,
                  f"team {plan.team_id} run {plan.run_id}: shard {index}"):
        yield


def compute_shard(plan: Plan, index: int, forecaster, holder: str, worker: str) -> int:
    """Forecasts one claimed shard and stores its part. Returns the shards done, or RUN_GONE."""
    try:
        names, arrivals = shard_servers(plan, index)
        with keep_claim(plan, index, holder, worker):
            result = forecast_servers(plan.team_id, forecaster, names, arrivals, plan.generated_at)
        result.worker = worker
        return int(run_script(STORE, [plan.keys.plan, plan.keys.claims, plan.keys.parts, plan.keys.done],
                              [index, result.fragment, result.meta_json()]))
    except BaseException:  # a failure or a time limit: the shard is given back for another try
        try:
            run_script(RELEASE, [plan.keys.claims], [index, holder])
        except redis.RedisError:
            pass  # its lease runs out instead
        raise


def run_sharded(team_id, run_id, servers, choice, worker: str) -> dict:
    """The coordinator's side (called by the run_team task that holds the team's run lock)."""
    started = time.perf_counter()
    plan = read_plan(team_id, run_id)
    if plan is None:
        plan = make_plan(team_id, run_id, servers, choice.forecaster, choice.sha256)
        queue_shards(plan)
    else:
        log.info("team %s: resuming sharded run %s (tick %s)", team_id, run_id, plan.tick)
    forecaster = choice.forecaster if choice.forecaster.version == plan.model["version"] else None
    client = get_redis()
    try:
        while True:
            index = claim(plan, run_id, worker)
            if index == RUN_GONE:
                raise RunGone(plan)
            if index >= 0:
                forecaster = forecaster or model_for(plan)
                compute_shard(plan, index, forecaster, run_id, worker)
            elif client.scard(plan.keys.done) >= plan.shards:
                break
            else:
                time.sleep(WAIT_SECONDS)  # other workers hold the remaining shards
        results, known = read_parts(plan)
        summary = publish_run(RunHead(team_id, plan.tick, plan.generated_at, plan.model, started), results, known)
    except Exception:
        # the run failed (its task is not redone, as a whole run's is not): its shards still
        # queued find no plan and do nothing. A killed coordinator never gets here: its plan
        # stays for the redelivered task to resume.
        client.delete(*plan.keys.all)
        raise
    client.delete(*plan.keys.all)
    summary["models"] = sorted({r.model for r in results})
    return summary


def queue_shards(plan: Plan):
    """One task per shard but the last, which the coordinator starts with. A broker that cannot
    take them leaves the shards to the coordinator (slower, never lost)."""
    for index in range(plan.shards - 1):
        try:
            current_app.send_task(SHARD_TASK, args=[plan.team_id, plan.run_id, index])
        except OperationalError:
            log.warning("team %s: could not queue the shards of run %s; the coordinator does them",
                        plan.team_id, plan.run_id)
            return


def read_parts(plan: Plan):
    """(every shard's ShardResult in shard order, every server of the plan), one shard per call."""
    client = get_redis()
    results = []
    for index in range(plan.shards):
        fragment, meta = client.hmget(plan.keys.parts, f"p:{index}", f"m:{index}")
        if meta is None:
            raise RunGone(plan)
        results.append(ShardResult.from_stored(fragment, meta))
    known = [name for index in range(plan.shards) for name in shard_servers(plan, index)[0]]
    return results, known


def run_queued_shard(team_id, run_id, index, task_id, models, worker: str) -> str:
    """A run_shard task's side: forecasts its shard unless the run is gone, the shard is done
    or another live task holds it. Returns what it did (for the task's log line)."""
    plan = read_plan(team_id, run_id)
    if plan is None:
        return "run gone"
    if claim(plan, task_id, worker, index) != index:
        return "done or held elsewhere"
    try:
        forecaster = model_for(plan, models)
    except BaseException:
        run_script(RELEASE, [plan.keys.claims], [index, task_id])
        raise
    done = compute_shard(plan, index, forecaster, task_id, worker)
    return "run gone" if done == RUN_GONE else f"done ({done}/{plan.shards})"


def model_for(plan: Plan, models=None):
    """The run's model in this process: LoadedModels.get(version, sha256); if it cannot be loaded
    here, the fallback LoadedModels.for_team picks (the part then records the version used)."""
    if models is None:
        from . import worker

        models = worker.loaded_models()
    version = plan.model["version"]
    if plan.sha256 is not None or version == models.default.version:
        try:
            return models.get(version, plan.sha256) if plan.sha256 else models.default
        except (ValueError, DatabaseError) as e:
            log.warning("team %s run %s: model %s not usable here (%s); falling back",
                        plan.team_id, plan.run_id, version, e)
    else:
        log.warning("team %s run %s: this worker's directory model is not %s; falling back",
                    plan.team_id, plan.run_id, version)
    return models.for_team(plan.team_id).forecaster
