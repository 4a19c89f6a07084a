"""The service's Prometheus metrics: what each web process counts, and the scrape that adds what
is read from Redis at that moment.

Two kinds of figures, kept apart on purpose:

- Counted in the process, on the request path (requests, latencies, feed outcomes, Redis
  errors): prometheus_client metrics registered in PROCESS_REGISTRY. Under gunicorn they are in
  multiprocess mode (argus_project/gunicorn.conf.py sets PROMETHEUS_MULTIPROC_DIR before any
  worker imports prometheus_client): each worker writes its own mmap file, no lock or Redis call
  per request, and any worker that answers /metrics sums every worker's files, the dead ones'
  included (counters never go back). Without that directory (runserver, in-process tests) they
  live in this process's memory.
- Installation-wide figures (prediction runs, queue depth, per-team prediction age and model):
  computed at scrape time by collectors that apps register here (register_collector), from
  Redis, so they are right whichever process or machine did the work. Every web instance shows
  the same values for these: aggregate them across instances with max(), not sum().
"""
import logging
import os

from django.conf import settings
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from .redis import redis_at, redis_unavailable

log = logging.getLogger(__name__)

PROCESS_REGISTRY = CollectorRegistry(auto_describe=True)
_scrape_collectors = []

REQUESTS = Counter(
    "argus_http_requests", "HTTP requests answered, by endpoint (the URL pattern's name) and status code.",
    ["endpoint", "status"], registry=PROCESS_REGISTRY)
REQUEST_SECONDS = Histogram(
    "argus_http_request_duration_seconds", "Time to answer a request (to its first byte for streamed answers).",
    ["endpoint"], registry=PROCESS_REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
REDIS_ERRORS = Counter(
    "argus_redis_errors", "Redis unreachable, busy, out of memory or read-only: requests answered 503 (web) and "
    "scrapes that could not read Redis (scrape); runs it failed are argus_runs{outcome=\"redis_unavailable\"}.",
    ["where"], registry=PROCESS_REGISTRY)


def multiprocess_dir():
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def count_redis_error(where: str):
    REDIS_ERRORS.labels(where=where).inc()


def register_collector(collector):
    """Adds a scrape-time collector (an object with collect() yielding metric families), once."""
    if not any(type(c) is type(collector) for c in _scrape_collectors):
        _scrape_collectors.append(collector)


class _ThisProcess:
    """PROCESS_REGISTRY's metrics, for a process outside multiprocess mode."""

    def collect(self):
        yield from PROCESS_REGISTRY.collect()


class _Guarded:
    """A scrape-time collector whose Redis outage costs its own figures, not the whole scrape."""

    def __init__(self, collector):
        self.collector = collector

    def collect(self):
        try:
            families = list(self.collector.collect())
        except Exception as exc:  # noqa: BLE001  one collector's failure must not fail the scrape
            if redis_unavailable(exc):
                count_redis_error("scrape")
            else:
                log.exception("metrics collector %s failed", type(self.collector).__name__)
            families = []
        yield from families


def exposition() -> bytes:
    """The text exposition of every metric: this host's web processes and the scrape-time ones."""
    registry = CollectorRegistry(auto_describe=False)
    # the scrape-time collectors first: a Redis error they count is in this very answer
    for collector in _scrape_collectors:
        registry.register(_Guarded(collector))
    directory = multiprocess_dir()
    if directory:
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_ThisProcess())
    return generate_latest(registry)


class QueueDepth:
    """Tasks waiting in each Celery queue: the length of its list in the broker's Redis (kombu's
    global_keyprefix included). Tasks a worker has taken are not in the list any more."""

    def collect(self):
        from celery import current_app

        queues = sorted({route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
                        | {settings.CELERY_TASK_DEFAULT_QUEUE})
        prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
        pipe = redis_at(current_app.conf.broker_url).pipeline(transaction=False)
        for queue in queues:
            pipe.llen(prefix + queue)
        family = GaugeMetricFamily("argus_queue_depth", "Tasks waiting in each Celery queue.", labels=["queue"])
        for queue, depth in zip(queues, pipe.execute()):
            family.add_metric([queue], depth)
        yield family
