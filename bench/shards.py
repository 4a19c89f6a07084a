"""Sharded runs benchmark: freshness of one large team's predictions with 1, 2 and 4 Celery worker
processes (bin/worker, one pool process and one torch thread each), over real HTTP.

  .venv/bin/python bench/shards.py [--servers 10000] [--workers 1 2 4] [--shard-servers 1250]
                                   [--ticks 3] [--history-hours 6]

A simulated fleet is fed --history-hours of history, then for each worker count (and first once
unsharded, ARGUS_SHARD_SERVERS=0, with one worker) a warm-up tick and --ticks live ticks are
posted one at a time. Freshness is the time from starting the POST until /status reports a
prediction covering the tick. Each run's figures come from the team's run:stats (core/keys.py):
each shard's own seconds (read, align, forecast, score, serialise), the merge's seconds (read
the parts, join the document, the alert timeline, the cache write) and the coordinator's total.
On a machine with fewer cores than worker processes the gain is bounded by the cores; the
per-shard times and the merge's cost say what more machines would give:
freshness ~ (shards / workers) x shard time + merge."""
import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import redis
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "argus_project.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-" + os.urandom(30).hex())  # a throwaway installation

import django  # noqa: E402

django.setup()

from core import keys  # noqa: E402
from feeds.schema import SLOTS_PER_DAY  # noqa: E402
from inference.simulator import simulate_fleet  # noqa: E402
from tests.feeding import feed_frame, to_records  # noqa: E402
from tests.live import private_stack  # noqa: E402


def predicted_tick(base, key):
    return requests.get(base + "/status", headers={"X-API-Key": key}, timeout=60).json()["predicted_tick"] or 0


def wait_for(base, key, tick, timeout):
    deadline = time.monotonic() + timeout
    while predicted_tick(base, key) < tick:
        if time.monotonic() > deadline:
            raise TimeoutError(f"no predictions for tick {tick} in {timeout} s")
        time.sleep(0.02)


def post_tick(base, key, frame):
    response = requests.post(base + "/feed/data", json={"records": to_records(frame)},
                             headers={"X-API-Key": key}, timeout=120)
    response.raise_for_status()
    return response.json()["tick"]


def restart_workers(stack, running, count, **settings):
    for process in running:
        process.terminate()
    for process in running:
        process.wait(120)
        stack.processes.remove(process)
    return [stack.start_worker(ARGUS_LOG_LEVEL="WARNING", ARGUS_TORCH_THREADS=1, **settings) for _ in range(count)]


def measure(base, key, client, team_id, frames):
    """(freshness per tick, run:stats per tick) for the live frames, posted one at a time."""
    fresh, stats = [], []
    for frame in frames:
        started = time.perf_counter()
        tick = post_tick(base, key, frame)
        wait_for(base, key, tick, timeout=600)
        fresh.append(time.perf_counter() - started)
        stats.append(json.loads(client.get(keys.team(team_id).run_stats)))
    return np.array(fresh), stats


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", type=int, default=10_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--shard-servers", type=int, default=1250)
    parser.add_argument("--ticks", type=int, default=3, help="measured live ticks per configuration")
    parser.add_argument("--history-hours", type=float, default=6)
    parser.add_argument("--no-baseline", action="store_true", help="skip the unsharded one-worker row")
    args = parser.parse_args()

    configs = ([] if args.no_baseline else [(1, 0)]) + [(w, args.shard_servers) for w in args.workers]
    history_slots = int(args.history_hours * 12)
    live_slots = len(configs) * (1 + args.ticks)
    started = time.perf_counter()
    records, _ = simulate_fleet(args.servers, days=(history_slots + live_slots + 1) / SLOTS_PER_DAY, seed=23)
    times = sorted(records["timestamp"].unique())
    history, live = times[:-live_slots], iter(times[-live_slots:])
    print(f"simulated {args.servers} servers, {len(times)} slots in {time.perf_counter() - started:.0f} s", flush=True)

    with private_stack() as stack:
        base = stack.start_web(workers=2, ARGUS_RATE_FEED="1000000/min", ARGUS_RATE_READ="1000000/min")
        key = stack.create_key("big")
        team_id = int(stack.manage("shell", "-c", "from feeds.models import Team; print(Team.objects.get(slug='big').id)")[-1])
        client = redis.Redis.from_url(stack.env["REDIS_URL"])
        workers = restart_workers(stack, [], configs[0][0], ARGUS_SHARD_SERVERS=configs[0][1])
        started = time.perf_counter()
        tick = feed_frame(base, key, records[records["timestamp"].isin(history)], max(1, 10_000 // args.servers))
        wait_for(base, key, tick, timeout=1800)
        print(f"fed {len(history)} slots of history and waited for its predictions in "
              f"{time.perf_counter() - started:.0f} s\n", flush=True)

        print(f"Sharded runs: {args.servers:,} servers, {os.cpu_count()} CPUs, each worker process 1 torch thread\n")
        print(f"{'workers':>7} {'shards':>6} {'fresh p50 s':>11} {'max s':>6} {'run s':>6} "
              f"{'shard s p50':>11} {'shard s max':>11} {'merge s':>7}  shards per worker")
        for count, shard_servers in configs:
            workers = restart_workers(stack, workers, count, ARGUS_SHARD_SERVERS=shard_servers)
            at = next(live)
            measure(base, key, client, team_id, [records[records["timestamp"] == at]])  # warm-up: new processes
            frames = [records[records["timestamp"] == next(live)] for _ in range(args.ticks)]
            fresh, stats = measure(base, key, client, team_id, frames)
            shard_seconds = [s["seconds"] for run in stats for s in run["shards"]]
            per_worker = {}
            for s in stats[-1]["shards"]:
                per_worker[s["worker"]] = per_worker.get(s["worker"], 0) + 1
            label = f"{count}" + ("" if shard_servers else " (whole)")
            print(f"{label:>7} {len(stats[-1]['shards']):>6} {np.percentile(fresh, 50):>11.2f} {fresh.max():>6.2f} "
                  f"{statistics.median(r['compute_seconds'] for r in stats):>6.2f} "
                  f"{statistics.median(shard_seconds):>11.2f} {max(shard_seconds):>11.2f} "
                  f"{statistics.median(r['merge_seconds'] for r in stats):>7.2f}  "
                  f"{sorted(per_worker.values(), reverse=True)}", flush=True)


if __name__ == "__main__":
    main()
