"""Ingest benchmark: POST /feed/data through one gunicorn process against the floor.

  .venv/bin/python bench/ingest.py [--requests-small 400] [--requests-large 100]

Starts a private redis-server and one gunicorn worker (feed rate limit raised by setting),
then sends batches of 45 and 1,000 records with advancing timestamps (windows fill and trim
as in production; every batch is also appended to the team's history stream, which no
archiver drains here). Reports validated records/s and p50/p99 latency per batch size, Redis
bytes per stored point, and the floor measured in the same run: json.loads of the same body
plus one pipelined write of every record, with no HTTP and no validation."""
import argparse
import json
import os
import struct
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import redis
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "argus_project.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-" + os.urandom(30).hex())  # a throwaway installation

from feeds.schema import METRICS  # noqa: E402
from tests.live import private_stack  # noqa: E402

START = datetime(2026, 1, 1)


def body_for(tick, servers):
    ts = (START + timedelta(minutes=5 * tick)).isoformat()
    rng = np.random.default_rng(tick)
    records = []
    for i in range(servers):
        user, sys_, iowait = (float(round(v, 2)) for v in rng.uniform([5, 1, 0], [60, 15, 10]))
        records.append({
            "timestamp": ts, "server_name": f"ppapi{i:04d}", "status": "healthy",
            "cpu_user_pct": user, "cpu_sys_pct": sys_, "cpu_iowait_pct": iowait,
            "cpu_idle_pct": round(100 - user - sys_ - iowait, 2), "java_cpu_pct": round(user / 2, 2),
            "mem_used_pct": float(round(rng.uniform(30, 90), 2)), "swap_used_pct": 1.5,
            "disk_usage_pct": 55.25, "net_in_mb_s": float(round(rng.uniform(0, 50), 3)),
            "net_out_mb_s": float(round(rng.uniform(0, 50), 3)), "back_close_wait": int(rng.integers(0, 20)),
            "front_close_wait": int(rng.integers(0, 20)), "load_average": float(round(rng.uniform(0, 8), 2)),
            "uptime_days": 120,
        })
    return json.dumps({"records": records}).encode()


def percentiles(samples):
    return np.percentile(samples, 50) * 1000, np.percentile(samples, 99) * 1000


def run_http(url, key, servers, n, first_tick):
    session = requests.Session()
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    bodies = [body_for(first_tick + t, servers) for t in range(n)]
    times = []
    for body in bodies:
        started = time.perf_counter()
        response = session.post(url, data=body, headers=headers, timeout=60)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
    return np.array(times)


def run_floor(client, servers, n, first_tick):
    packer = struct.Struct("<I14f")
    bodies = [body_for(first_tick + t, servers) for t in range(n)]
    times = []
    for tick, body in enumerate(bodies):
        started = time.perf_counter()
        records = json.loads(body)["records"]
        pipe = client.pipeline(transaction=False)
        for r in records:
            pipe.rpush(f"floor:{r['server_name']}", packer.pack(tick, *(r[m] for m in METRICS)))
        pipe.execute()
        times.append(time.perf_counter() - started)
    return np.array(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests-small", type=int, default=400, help="45-record batches to send")
    parser.add_argument("--requests-large", type=int, default=100, help="1,000-record batches to send")
    args = parser.parse_args()

    with private_stack() as stack:
        redis_url = stack.env["REDIS_URL"]
        client = redis.Redis.from_url(redis_url)
        key = stack.create_key("bench")
        base = stack.start_web(workers=1, ARGUS_RATE_FEED="1000000/min")
        print(f"Argus ingest benchmark: 1 gunicorn worker, private Redis {redis_url}, "
              f"{os.cpu_count()} CPUs\n")
        print(f"{'batch':>6} {'path':<22} {'records/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
        ratios = {}
        tick = 0
        for servers, n in ((45, args.requests_small), (1000, args.requests_large)):
            run_http(base + "/feed/data", key, servers, 5, tick)  # warm up
            tick += 5
            http = run_http(base + "/feed/data", key, servers, n, tick)
            floor = run_floor(client, servers, n, tick)
            tick += n
            for label, times in (("HTTP + validation", http), ("floor (parse + write)", floor)):
                p50, p99 = percentiles(times)
                print(f"{servers:>6} {label:<22} {servers * n / times.sum():>10,.0f} {p50:>8.2f} {p99:>8.2f}")
            ratios[servers] = np.median(http) / np.median(floor)

        team_keys = [k for k in client.scan_iter("argus:*") if b":rate:" not in k]
        history = [k for k in team_keys if b":history:" in k]  # the copy waiting for the archiver
        used = sum(client.memory_usage(k, samples=0) for k in team_keys if k not in history)
        points = sum(client.llen(k) for k in team_keys if b":w:" in k)
        waiting = sum(int(client.hget(k, "pending") or 0) for k in history if k.endswith(b":state"))
        waiting_bytes = sum(client.memory_usage(k, samples=0) for k in history)
        print(f"\nmedian latency vs floor: 45 records {ratios[45]:.2f}x, 1,000 records {ratios[1000]:.2f}x")
        print(f"Redis memory: {used:,} bytes for {points:,} stored points = {used / points:.1f} bytes/point; "
              f"history stream (no archiver runs here): {waiting_bytes / waiting:.1f} bytes/point waiting")


if __name__ == "__main__":
    main()
