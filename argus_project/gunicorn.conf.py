"""gunicorn settings for every way Argus is served: the Procfile, bin/start and the tests'
LiveStack (`gunicorn -c argus_project/gunicorn.conf.py argus_project.wsgi`). Command-line
options (--bind, --workers) override these; docs/configuration.md lists the variables.

Threaded workers with read deadlines (argus_project/gunicorn_worker.py): a slow client holds
one thread for at most ARGUS_HEADER_TIMEOUT + ARGUS_BODY_TIMEOUT seconds, and an idle or
kept-alive connection holds no thread at all. A buffering proxy in front (see the README's
deployment section) still helps: it absorbs slow clients before they reach Python."""
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
worker_class = "argus_project.gunicorn_worker.DeadlineThreadWorker"
threads = int(os.environ.get("ARGUS_WEB_THREADS", "8"))
worker_connections = 1000  # open connections per worker (idle ones cost a poller slot, not a thread)
keepalive = 5  # seconds an idle kept-alive connection stays open
timeout = 60  # a worker whose main loop stops answering this long is replaced
graceful_timeout = 10  # on SIGTERM/SIGINT, in-flight requests get this long (Ctrl-C within 10 s)
# Header size limits (gunicorn's defaults, stated): a request line of 8 KB, 100 header fields
# of 8 KB each.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190

# /metrics in multiprocess mode (core/metrics.py): every worker writes its counters to files in
# PROMETHEUS_MULTIPROC_DIR and the worker answering a scrape sums them all. Set here, in the
# master, before any worker imports prometheus_client (it picks its mode at import). This master
# owns the directory: a private temporary one unless the variable names one, emptied before the
# first worker starts (a previous run's counters would otherwise be added in), its files kept
# while the master lives (a replaced worker's counts stay counted; one small file per worker
# started), and removed at exit when it was ours. Give each gunicorn its own directory.
_metrics_dir_is_ours = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _metrics_dir_is_ours:
    import tempfile

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="argus-metrics-")


def on_starting(server):
    from pathlib import Path

    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # only "live" gauges are dropped; counters stay


def on_exit(server):
    if _metrics_dir_is_ours:
        import shutil

        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
