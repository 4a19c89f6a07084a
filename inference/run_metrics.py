"""Prediction runs for /metrics: counted in Redis by the worker that ran them, read at scrape time.

Runs happen on Celery workers, possibly on other machines than the web process that answers the
scrape, so their counters live in one Redis hash (keys.run_metrics(), a fixed set of fields: one
pipelined write per run, atomic across every pool process and machine). Recorded from Celery's
task signals, so the run task itself carries no metrics code. A run that Redis's outage failed is
counted once Redis answers again (the increments wait in the worker's memory, a fixed set of
numbers).

Scrape time also reads, per team, the cached prediction's age and model version (one pipelined
HMGET per team of the database's teams)."""
import logging
import threading
import time
from collections import Counter

from celery.signals import task_postrun, task_prerun
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from core import keys
from core.redis import get_redis, redis_unavailable

from .dispatch import RUN_TASK

log = logging.getLogger(__name__)

DURATION_BUCKETS = (0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300)  # seconds; ARGUS_RUN_TIME_LIMIT is 300
SERVER_BUCKETS = (10, 50, 100, 500, 1000, 5000, 10000, 50000)  # ARGUS_MAX_SERVERS_PER_TEAM is 50,000
# stored: a new document served; superseded: a newer tick was already stored; empty: no server
# had enough history; failed: an error; redis_unavailable: Redis failed the run.
OUTCOMES = ("stored", "superseded", "empty", "failed", "redis_unavailable")

_started = {}  # task id -> perf_counter, while the task runs in this process (one at a time)
_unsent = Counter()  # increments a Redis outage kept from being written
_unsent_lock = threading.Lock()


def outcome_of(state, retval) -> str:
    if state == "SUCCESS":
        if not retval.get("servers"):
            return "empty"
        return "stored" if retval.get("stored") else "superseded"
    return "redis_unavailable" if isinstance(retval, BaseException) and redis_unavailable(retval) else "failed"


def increments(outcome: str, seconds: float, servers, shards: int = 1) -> Counter:
    """The hash fields one run adds to. Buckets are stored cumulative (as exposed)."""
    fields = Counter({f"runs:{outcome}": 1, "shards": shards, "duration:count": 1, "duration:sum": seconds})
    fields.update({f"duration:le:{b}": 1 for b in DURATION_BUCKETS if seconds <= b})
    if servers:
        fields.update({"servers:count": 1, "servers:sum": servers})
        fields.update({f"servers:le:{b}": 1 for b in SERVER_BUCKETS if servers <= b})
    return fields


def record_run(outcome: str, seconds: float, servers=None, shards: int = 1):
    with _unsent_lock:
        fields = increments(outcome, seconds, servers, shards) + _unsent
        _unsent.clear()
    try:
        pipe = get_redis().pipeline(transaction=True)  # one consistent step: a scrape never sees half a run
        for field, amount in fields.items():
            if isinstance(amount, float):
                pipe.hincrbyfloat(keys.run_metrics(), field, amount)
            else:
                pipe.hincrby(keys.run_metrics(), field, amount)
        pipe.execute()
    except Exception as exc:  # noqa: BLE001  metrics must never fail a run
        with _unsent_lock:
            _unsent.update(fields)
        if not redis_unavailable(exc):
            log.exception("could not record a run's metrics")


@task_prerun.connect
def _run_started(sender=None, task_id=None, **kwargs):
    if getattr(sender, "name", None) == RUN_TASK:
        _started[task_id] = time.perf_counter()


@task_postrun.connect
def _run_finished(sender=None, task_id=None, retval=None, state=None, **kwargs):
    if getattr(sender, "name", None) != RUN_TASK:
        return
    started = _started.pop(task_id, None)
    if state == "RETRY" or started is None:
        return  # another run of the team held the lock: this task waits its turn, it ran nothing
    servers = retval.get("servers") if state == "SUCCESS" else None
    shards = (retval.get("shards") or 1) if state == "SUCCESS" else 1  # a sharded run has several
    record_run(outcome_of(state, retval), time.perf_counter() - started, servers, shards)


class RunCollector:
    """The runs' counters (from Redis) and each team's prediction age and model version."""

    def collect(self):
        from feeds.models import Team

        teams = list(Team.objects.order_by("slug").values_list("id", "slug"))
        pipe = get_redis().pipeline(transaction=False)
        pipe.hgetall(keys.run_metrics())
        for team_id, _ in teams:
            pipe.hmget(keys.team(team_id).predictions_meta, "generated_at", "model")
        counters, *metas = pipe.execute()
        counters = {k.decode(): float(v) for k, v in counters.items()}
        yield from run_families(counters)
        yield from team_families(teams, metas, time.time())


def run_families(counters: dict):
    runs = CounterMetricFamily("argus_runs", "Prediction runs by outcome.", labels=["outcome"])
    for outcome in OUTCOMES:
        runs.add_metric([outcome], counters.get(f"runs:{outcome}", 0))
    yield runs
    yield CounterMetricFamily("argus_run_shards", "Shards of prediction runs merged (a run of a team up to ARGUS_SHARD_SERVERS servers is one).",
                              value=counters.get("shards", 0))
    yield histogram("argus_run_duration_seconds", "Time a prediction run took, start to stored document.",
                    counters, "duration", DURATION_BUCKETS)
    yield histogram("argus_run_servers", "Servers forecast per prediction run.", counters, "servers", SERVER_BUCKETS)


def histogram(name, documentation, counters, field, bounds):
    buckets = [(str(float(b)), counters.get(f"{field}:le:{b}", 0)) for b in bounds]
    buckets.append(("+Inf", counters.get(f"{field}:count", 0)))
    return HistogramMetricFamily(name, documentation, buckets=buckets, sum_value=counters.get(f"{field}:sum", 0))


def team_families(teams, metas, now):
    age = GaugeMetricFamily("argus_team_prediction_age_seconds",
                            "Seconds since the team's served predictions were computed (absent before the first run).",
                            labels=["team"])
    model = GaugeMetricFamily("argus_team_model_info", "The model version the team's served predictions came from "
                              "(always 1; the version is the label).", labels=["team", "version"])
    for (_, slug), (generated_at, version) in zip(teams, metas):
        if generated_at is None:
            continue
        age.add_metric([slug], max(0.0, now - float(generated_at)))
        model.add_metric([slug, (version or b"").decode()], 1)
    yield age
    yield model
