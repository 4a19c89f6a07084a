"""End-to-end benchmark: freshness of predictions and read latency, over real HTTP with one
CPU Celery worker (bin/worker) and the model in ARGUS_MODEL_DIR (default: the shipped one).

  .venv/bin/python bench/e2e.py [--fleets 45 1000] [--ticks 15] [--reads 300]

For each fleet size: backfill a simulated day, wait for its first predictions, then post live
ticks one at a time; freshness is the time from starting the POST until /status reports a
prediction covering that tick. Read latency: GET /predictions/current and /alerts/active for
the 45-server team."""
import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "argus_project.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-" + os.urandom(30).hex())  # a throwaway installation

from feeds.schema import SLOTS_PER_DAY  # noqa: E402
from inference.simulator import simulate_fleet  # noqa: E402
from tests.feeding import feed_frame, to_records, wait_for_predictions  # noqa: E402
from tests.live import private_stack  # noqa: E402


def predicted_tick(base, key):
    return requests.get(base + "/status", headers={"X-API-Key": key}, timeout=30).json()["predicted_tick"] or 0


def measure_freshness(base, key, live_frames):
    samples = []
    for frame in live_frames:
        started = time.perf_counter()
        response = requests.post(base + "/feed/data", json={"records": to_records(frame)},
                                 headers={"X-API-Key": key}, timeout=60)
        tick = response.json()["tick"]
        while predicted_tick(base, key) < tick:
            time.sleep(0.01)
        samples.append(time.perf_counter() - started)
    return np.array(samples)


def measure_reads(base, key, path, n):
    session = requests.Session()
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        response = session.get(base + path, headers={"X-API-Key": key}, timeout=30)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200
    return np.array(samples), len(response.content)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fleets", type=int, nargs="+", default=[45, 1000])
    parser.add_argument("--ticks", type=int, default=15, help="live ticks per fleet")
    parser.add_argument("--reads", type=int, default=300)
    args = parser.parse_args()

    with private_stack() as stack:
        rates = {"ARGUS_RATE_FEED": "1000000/min", "ARGUS_RATE_READ": "1000000/min"}
        base = stack.start_web(workers=2, **rates)
        stack.start_worker(ARGUS_LOG_LEVEL="WARNING")
        print(f"Argus end-to-end benchmark: 2 gunicorn workers, 1 Celery worker process "
              f"(1 torch thread), {os.cpu_count()} CPUs, model {os.environ.get('ARGUS_MODEL_DIR') or 'shipped default'}\n")
        print(f"{'servers':>8} {'freshness p50 s':>16} {'p95 s':>8} {'max s':>8}")
        keys = {}
        for servers in args.fleets:
            key = keys[servers] = stack.create_key(f"fleet{servers}")
            records, _ = simulate_fleet(servers, days=1 + args.ticks / SLOTS_PER_DAY, seed=21)
            times = sorted(records["timestamp"].unique())
            history = records[records["timestamp"] < times[-args.ticks]]
            per_request = max(1, 9000 // servers)
            wait_for_predictions(base, key, feed_frame(base, key, history, per_request), timeout=600)
            live = [records[records["timestamp"] == t] for t in times[-args.ticks:]]
            fresh = measure_freshness(base, key, live)
            print(f"{servers:>8} {np.percentile(fresh, 50):>16.2f} {np.percentile(fresh, 95):>8.2f} {fresh.max():>8.2f}")

        if 45 in keys:
            print(f"\n{'read (45 servers)':<24} {'p50 ms':>8} {'p99 ms':>8} {'bytes':>10}")
            for path in ("/predictions/current", "/alerts/active"):
                samples, size = measure_reads(base, keys[45], path, args.reads)
                print(f"{path:<24} {np.percentile(samples, 50) * 1000:>8.2f} "
                      f"{np.percentile(samples, 99) * 1000:>8.2f} {size:>10,}")


if __name__ == "__main__":
    main()
