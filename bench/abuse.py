"""Abuse benchmark: a victim team's feed latency while another team hits its limits and two
slow clients connect, beside the victim alone, in one run (loopback only).

  .venv/bin/python bench/abuse.py [--requests 300] [--workers 2] [--attackers 2]

Starts a private redis-server and gunicorn as shipped (argus_project/gunicorn.conf.py: gthread
workers with read deadlines), with the feed rate limit lifted so that the attacking team is
stopped by its server limits, not by the rate limit. The victim sends 45-record batches one
after another, first alone, then while
  - the attacker (in its own processes) posts 2,000-record batches of servers it never sent
    before, as fast as it can: the first pass its limits (ARGUS_MAX_SERVERS_PER_TEAM 5,000,
    ARGUS_MAX_NEW_SERVERS_PER_HOUR 4,000 here), then every batch is refused whole (422/429),
    each still parsed and validated;
  - two slow clients send request headers and a body a few bytes a second, reconnecting
    whenever the server drops them (ARGUS_HEADER_TIMEOUT / ARGUS_BODY_TIMEOUT).
Prints the victim's p50/p99 latency in both phases and their ratio, and what the attacker got."""
import argparse
import json
import multiprocessing
import os
import socket
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "argus_project.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-" + os.urandom(30).hex())  # a throwaway installation

from tests.factories import make_record  # noqa: E402
from tests.live import private_stack  # noqa: E402

START = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=3)


def victim_body(tick):
    ts = (START + timedelta(minutes=5 * tick)).isoformat(timespec="seconds")
    return json.dumps({"records": [make_record(f"ppdb{i:03d}", ts) for i in range(45)]})


def victim_latencies(base, key, n, first_tick):
    session = requests.Session()
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    bodies = [victim_body(first_tick + i) for i in range(n)]
    took, statuses = [], Counter()
    for body in bodies:
        started = time.perf_counter()
        response = session.post(base + "/feed/data", data=body, headers=headers, timeout=60)
        took.append((time.perf_counter() - started) * 1000)
        statuses[response.status_code] += 1
    return np.array(took), statuses


def attacker(base, key, stop, results, batch=2000):
    """Posts batches of never-seen servers until `stop` is set (runs in its own process)."""
    ts = (START + timedelta(days=1)).isoformat(timespec="seconds")
    template = json.dumps({"records": [make_record("SERVER", ts) for _ in range(batch)]})
    session = requests.Session()
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    statuses, n = Counter(), 0
    while not stop.is_set():
        body = template.replace('"SERVER"', "%s")
        body = body % tuple(f'"att{os.getpid()}-{n}-{i}"' for i in range(batch))
        n += 1
        try:
            statuses[session.post(base + "/feed/data", data=body, headers=headers, timeout=60).status_code] += 1
        except requests.RequestException as exc:
            statuses[type(exc).__name__] += 1
    results.put(dict(statuses))


def slow_client(base, key, stop, dropped):
    """Sends a request a few bytes a second; reconnects when the server drops it."""
    host, port = base.removeprefix("http://").split(":")
    head = (f"POST /feed/data HTTP/1.1\r\nHost: {host}\r\nX-API-Key: {key}\r\n"
            "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n").encode()
    while not stop.is_set():
        try:
            with socket.create_connection((host, int(port)), timeout=5) as sock:
                for i in range(len(head) + 100_000):
                    if stop.wait(0.2):
                        return
                    sock.sendall(head[i:i + 1] if i < len(head) else b" ")
        except OSError:
            dropped[0] += 1  # the server hung up on us: its deadline worked


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="victim batches per phase")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--attackers", type=int, default=2, help="attacking processes")
    args = parser.parse_args()

    with private_stack() as stack:
        victim, attacker_key = stack.create_key("victim"), stack.create_key("attacker")
        base = stack.start_web(workers=args.workers, ARGUS_RATE_FEED="1000000/min",
                               ARGUS_MAX_SERVERS_PER_TEAM=5000, ARGUS_MAX_NEW_SERVERS_PER_HOUR=4000,
                               ARGUS_HEADER_TIMEOUT=10, ARGUS_BODY_TIMEOUT=30)
        victim_latencies(base, victim, 20, 10_000)  # warm up both workers
        alone, alone_status = victim_latencies(base, victim, args.requests, 0)

        context = multiprocessing.get_context("spawn")
        stop, results = context.Event(), context.Queue()
        attackers = [context.Process(target=attacker, args=(base, attacker_key, stop, results))
                     for _ in range(args.attackers)]
        slow_stop, dropped = threading.Event(), [0]
        slow = [threading.Thread(target=slow_client, args=(base, attacker_key, slow_stop, dropped), daemon=True)
                for _ in range(2)]
        for worker in attackers + slow:
            worker.start()
        time.sleep(3)  # the attacker is past its limits; the slow clients hold their connections
        attacked, attacked_status = victim_latencies(base, victim, args.requests, args.requests)
        stop.set()
        slow_stop.set()
        attack_statuses = Counter()
        for worker in attackers:
            attack_statuses.update(results.get(timeout=120))
            worker.join(60)

    p = lambda a, q: float(np.percentile(a, q))  # noqa: E731
    print(f"\nbench/abuse.py: {args.requests} victim batches of 45 records per phase, {args.workers} gunicorn "
          f"workers x {os.environ.get('ARGUS_WEB_THREADS', '8')} threads, {os.cpu_count()} CPUs\n")
    print("| phase | victim p50 ms | victim p99 ms | victim statuses |")
    print("|---|---|---|---|")
    print(f"| victim alone | {p(alone, 50):.1f} | {p(alone, 99):.1f} | {dict(alone_status)} |")
    print(f"| attacker at its limits + 2 slow clients | {p(attacked, 50):.1f} | {p(attacked, 99):.1f} | "
          f"{dict(attacked_status)} |")
    print(f"\np99 under attack / alone: {p(attacked, 99) / p(alone, 99):.2f}x; "
          f"p50: {p(attacked, 50) / p(alone, 50):.2f}x")
    print(f"attacker's answers: {dict(attack_statuses)}; slow clients dropped by the server: {dropped[0]}")


if __name__ == "__main__":
    main()
