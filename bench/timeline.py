"""What the alert timeline and live accuracy add to one prediction run, for large fleets.

  .venv/bin/python bench/timeline.py [--servers 1000 10000] [--alerting 0.1]

A throwaway database (Django's test database of DATABASE_URL) and a private redis-server. For each
fleet size it times, in steady state (after warm-up runs), what a run adds to its chunks and its
end: inference.accuracy.track per ARGUS_RUN_CHUNK servers with 600-slot windows (scoring what is
due, keeping the new forecasts), and inference.alert_timeline.advance_timeline with a share of
the servers alerting (its Redis state, the transitions, their bulk insert). The model is not run:
forecasts are random arrays of the served shape."""
import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "argus_project.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-" + os.urandom(30).hex())  # a throwaway installation

from bench.sandbox import throwaway_installation  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--alerting", type=float, default=0.1, help="share of servers with an alert, half of them changing level each run")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    with throwaway_installation():
        for n in args.servers:
            measure(n, args.alerting, args.runs)


def measure(n, alerting, runs):
    from django.conf import settings

    from feeds.models import Team
    from feeds.schema import METRICS
    from feeds.windows import RECORD
    from inference import accuracy
    from inference.alert_timeline import advance_timeline
    from inference.model.features import TARGETS
    from inference.scoring import score_server
    from timeline.models import AlertEvent

    team = Team.objects.create(slug=f"bench-{n}", name="bench")
    rng = np.random.default_rng(0)
    names = [f"srv{i:05d}" for i in range(n)]
    chunk = settings.ARGUS_RUN_CHUNK
    end0 = 20_000 * 288
    forecasts = rng.uniform(0, 100, (chunk, 96, len(TARGETS), 3)).astype(np.float32)
    forecasts.sort(axis=-1)
    base = np.zeros(600, RECORD)
    base["values"] = rng.uniform(0, 100, (600, len(METRICS)))
    quiet = score_server("x", "generic", np.ones(len(TARGETS)), np.ones((96, len(TARGETS), 3), np.float32))
    loud = score_server("x", "generic", np.full(len(TARGETS), 95.0), np.ones((96, len(TARGETS), 3), np.float32))
    track_times, timeline_times = [], []
    for r in range(runs + 100):  # 100 warm-up runs fill what waits for its actual value
        end = end0 + r
        base["slot"] = np.arange(end - 599, end + 1)
        started = time.perf_counter()
        for i in range(0, n, chunk):
            part = names[i:i + chunk]
            accuracy.track(team.id, part, np.full(len(part), end), dict.fromkeys(part, base), forecasts[:len(part)],
                           (0.1, 0.5, 0.9))
        track_time = time.perf_counter() - started
        k = int(n * alerting)
        flapping = set(names[:k // 2]) if r % 2 else set()
        scores = [(name, loud if (i < k and name not in flapping) else quiet) for i, name in enumerate(names)]
        alerts = [{**a, "server_name": name} for name, s in scores for a in s.problems]
        started = time.perf_counter()
        advance_timeline(team.id, r + 1, names, scores, alerts, end)
        timeline_time = time.perf_counter() - started
        if r >= 100:
            track_times.append(track_time)
            timeline_times.append(timeline_time)
    print(f"{n:>6} servers: accuracy.track {np.median(track_times) * 1000:7.1f} ms/run, "
          f"alert timeline {np.median(timeline_times) * 1000:7.1f} ms/run "
          f"({int(n * alerting) * len(TARGETS)} alerts open, {AlertEvent.objects.filter(team=team).count()} events stored)")


if __name__ == "__main__":
    main()
