"""Ingest A/B: POST /feed/data latency of two checkouts measured in the same run.

  git worktree add /tmp/argus-before <commit>   # or: git archive <commit> | tar -x -C /tmp/argus-before
  .venv/bin/python bench/ingest_ab.py --before /tmp/argus-before [--after .]

Starts, for each checkout, one gunicorn worker with its own private redis-server and SQLite file
(feed rate limit lifted), then sends the same bodies as bench/ingest.py to both, alternating
request by request (and which goes first), so that both see the same machine load: on a busy
machine the runs of bench/ingest.py alone differ by more than the change being measured. Both
checkouts run with this checkout's virtualenv."""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-" + os.urandom(30).hex())  # throwaway installations

from bench.ingest import body_for  # noqa: E402
from core.local_redis import free_port, start_redis_server  # noqa: E402
from tests.live import wait_for_http  # noqa: E402


def start_stack(tree: Path, tmp: Path):
    """(feed URL, API key, processes) of one checkout served by one gunicorn worker."""
    redis_port, port = free_port(), free_port()
    processes = [start_redis_server(redis_port, tmp / "redis")]
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}", "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
           "ARGUS_LOG_LEVEL": "WARNING", "ARGUS_RATE_FEED": "1000000/min"}

    def manage(*args):
        return subprocess.run([sys.executable, "manage.py", *args], env=env, cwd=tree, capture_output=True,
                              text=True, check=True).stdout.strip().splitlines()

    manage("migrate", "-v0")
    manage("create_team", "bench")
    key = manage("create_api_key", "bench")[-1]
    processes.append(subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "argus_project/gunicorn.conf.py", "argus_project.wsgi",
         "--bind", f"127.0.0.1:{port}", "--workers", "1", "--log-level", "warning"],
        env=env, cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    wait_for_http(f"http://127.0.0.1:{port}/health", processes[-1])
    return f"http://127.0.0.1:{port}/feed/data", key, processes


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True, help="the baseline checkout")
    parser.add_argument("--after", type=Path, default=ROOT, help="the changed checkout (default: this one)")
    parser.add_argument("--requests-small", type=int, default=600, help="45-record batches to each")
    parser.add_argument("--requests-large", type=int, default=120, help="1,000-record batches to each")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        stacks = {name: start_stack(tree.resolve(), Path(tmp) / name)
                  for name, tree in (("before", args.before), ("after", args.after))}
        sessions = {name: requests.Session() for name in stacks}
        try:
            print(f"Ingest A/B: {args.before} against {args.after}, 1 gunicorn worker each, {os.cpu_count()} CPUs\n")
            print(f"{'batch':>6} {'checkout':<8} {'records/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
            tick = 0
            for servers, n in ((45, args.requests_small), (1000, args.requests_large)):
                times = {name: [] for name in stacks}
                for i in range(n + 5):  # the first 5 warm up
                    body = body_for(tick, servers)
                    tick += 1
                    for name in (("before", "after") if i % 2 else ("after", "before")):
                        url, key, _ = stacks[name]
                        started = time.perf_counter()
                        response = sessions[name].post(url, data=body, timeout=60,
                                                       headers={"X-API-Key": key, "Content-Type": "application/json"})
                        if i >= 5:
                            times[name].append(time.perf_counter() - started)
                        assert response.status_code == 200, response.text
                for name in ("before", "after"):
                    ms = np.array(times[name]) * 1000
                    print(f"{servers:>6} {name:<8} {servers * len(ms) / ms.sum() * 1000:>10,.0f} "
                          f"{np.median(ms):>8.2f} {np.percentile(ms, 99):>8.2f}")
        finally:
            for _, _, processes in stacks.values():
                for process in reversed(processes):
                    process.terminate()
                    process.wait(10)


if __name__ == "__main__":
    main()
