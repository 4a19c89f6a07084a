"""Inference benchmark: the adapter's fast path vs pytorch-forecasting's predict(), same model/data;
also the fast path with the library's own variable selection (inference/model/fused.py's baseline)
and the served forecast (the blend).

    python bench/inference.py                       # 45, 1,000, 10,000 servers, 2 threads, CPU
    python bench/inference.py --device cuda         # on a GPU machine
    python bench/inference.py --sizes 45,1000 --library-max 1000

Each (method, fleet size) runs in its own child process so that peak RSS (ru_maxrss) belongs to
that case alone. Inputs: the newest slots of a simulated 45-server fleet, tiled to the fleet size with
small noise (every server the history a forecast reads, 14 metrics). Time is wall-clock for one call
(fast path: the median of --repeat calls after a warm-up call), excluding model loading.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def model_dir(arg):
    """--model, else the workers' own setting (ARGUS_MODEL_DIR, by default the shipped model)."""
    if arg:
        return arg
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "argus_project.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-" + os.urandom(30).hex())  # a throwaway installation
    import django
    from django.conf import settings

    django.setup()
    return settings.ARGUS_MODEL_DIR


def make_inputs(n: int, seed: int = 5, slots: int | None = None):
    import numpy as np

    from feeds.schema import SLOTS_PER_DAY
    from inference.series_io import records_to_series
    from inference.simulator import simulate_fleet

    slots = slots or SLOTS_PER_DAY
    records, _ = simulate_fleet(45, days=slots / SLOTS_PER_DAY + 1, seed=seed)
    series = records_to_series(records)
    base = np.stack([s["values"][-slots:] for s in series])
    reps = -(-n // len(base))
    rng = np.random.default_rng(seed)
    values = np.tile(base, (reps, 1, 1))[:n]
    values = values * rng.uniform(0.97, 1.03, size=(n, 1, 14)).astype(np.float32)
    end_times = np.array([series[0]["end_time"]] * n, dtype=np.int64)
    profiles = [series[i % len(series)]["profile"] for i in range(n)]
    return values.astype(np.float32), end_times, profiles


def run_case(args) -> dict:
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    from inference.model.fused import library_variable_selection
    from inference.model.reference import predict_with_library
    from inference.model.storage import load_forecaster

    t = time.perf_counter()
    fc = load_forecaster(model_dir(args.model), device=args.device)
    load_s = time.perf_counter() - t
    # fast path and library: the history a full forecast reads (the encoder's day, and the day
    # before it for a model with lagged inputs); served: the window a worker reads
    values, end_times, profiles = make_inputs(args.n, slots=fc.history_slots)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if fc.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    if args.case in ("fast", "unfused"):
        with contextlib.ExitStack() as stack:
            if args.case == "unfused":
                stack.enter_context(library_variable_selection(fc.network))
            seconds, out = fast_seconds(fc, values, end_times, profiles, args)
    elif args.case == "served":
        seconds, out, first_run = served_seconds(fc, args)
    else:
        predict_with_library(fc, values[:64], end_times[:64], profiles[:64])
        t = time.perf_counter()
        out = predict_with_library(fc, values, end_times, profiles, batch_size=args.chunk_size)
        seconds = time.perf_counter() - t
    result = {
        "method": METHODS[args.case],
        "servers": args.n, "seconds": round(seconds, 3),
        "ms_per_server": round(1000 * seconds / args.n, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rss_before_predict_mb": round(rss_before),
        "load_seconds": round(load_s, 2), "device": fc.device, "threads": torch.get_num_threads(),
        "chunk_size": args.chunk_size, "finite": bool(np.isfinite(out).all()),
    }
    if args.case == "served":
        result["first_run_seconds"] = round(first_run, 3)
    if fc.device.startswith("cuda"):
        result["gpu"] = torch.cuda.get_device_name()
        result["gpu_peak_mb"] = round(torch.cuda.max_memory_allocated() / 2**20)
    return result


def fast_seconds(fc, values, end_times, profiles, args):
    """The median of --repeat calls of fc.predict after a warm-up call."""
    import numpy as np
    import torch

    fc.predict(values[:64], end_times[:64], profiles[:64], chunk_size=args.chunk_size)
    times = []
    for _ in range(args.repeat):
        if fc.device.startswith("cuda"):
            torch.cuda.synchronize()
        t = time.perf_counter()
        out = fc.predict(values, end_times, profiles, chunk_size=args.chunk_size)
        if fc.device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    return float(np.median(times)), out


RUN_CHUNK = 1024  # servers per chunk of a worker's run (ARGUS_RUN_CHUNK's default)
METHODS = {"fast": "fast path", "unfused": "fast path, library's selection",
           "library": "pytorch-forecasting predict()",
           "served": "served (blend), steady run"}


def served_seconds(fc, args):
    """What a worker's run computes (inference.seasonal over --window slots per server, the
    model's backtests for the twelfth of the servers whose weights are due), after a first run
    that refreshed every server (its time is reported as first_run_seconds)."""
    import numpy as np

    from inference import seasonal
    from inference.seasonal import SeasonalState

    values, end_times, profiles = make_inputs(args.n, slots=args.window)
    end_slots = end_times // 300
    states = [SeasonalState.new() for _ in range(args.n)]

    def run(step):  # the runner's way: RUN_CHUNK servers at a time
        return np.concatenate([
            seasonal.forecast(fc, values[i:i + RUN_CHUNK], end_slots[i:i + RUN_CHUNK] + step,
                              profiles[i:i + RUN_CHUNK], states[i:i + RUN_CHUNK], chunk_size=args.chunk_size)
            for i in range(0, args.n, RUN_CHUNK)])

    t = time.perf_counter()
    run(0)
    first = time.perf_counter() - t
    for k, state in enumerate(states):  # stagger the refreshes as a running team's are
        state.skill_slot -= k % seasonal.REFRESH_SLOTS
    times = []
    for step in range(1, args.repeat + 1):
        t = time.perf_counter()
        out = run(step)
        times.append(time.perf_counter() - t)
    return float(np.median(times)), out, first


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sizes", default="45,1000,10000")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu", help="cpu, cuda, or auto")
    p.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    p.add_argument("--chunk-size", type=int, default=128)
    p.add_argument("--window", type=int, default=600,
                   help="slots per server in the served case (ARGUS_WINDOW_SLOTS; default its default)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--library-max", type=int, default=10000,
                   help="largest fleet to also run through pytorch-forecasting's predict() and "
                        "the library's variable selection")
    p.add_argument("--json", default=None, help="also write the results to this file")
    p.add_argument("--case", choices=list(METHODS), help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.device == "auto":
        args.device = None
    if args.case:
        print(json.dumps(run_case(args)))
        return
    results = []
    for n in [int(s) for s in args.sizes.split(",")]:
        for case in ("fast", "unfused", "served", "library"):
            if case in ("unfused", "library") and n > args.library_max:
                continue
            cmd = [sys.executable, __file__, "--case", case, "--n", str(n),
                   "--threads", str(args.threads), "--chunk-size", str(args.chunk_size),
                   "--repeat", str(args.repeat), "--device", args.device or "auto",
                   "--window", str(args.window)]
            if args.model:
                cmd += ["--model", args.model]
            env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if proc.returncode != 0:
                print(proc.stderr[-2000:], file=sys.stderr)
                raise SystemExit(f"case {case} n={n} failed")
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            results.append(r)
            gpu = f" gpu_peak={r['gpu_peak_mb']} MB" if "gpu_peak_mb" in r else ""
            gpu += f" (first run, every server backtested: {r['first_run_seconds']} s)" if "first_run_seconds" in r else ""
            print(f"{r['method']:<31} {n:>6} servers {r['seconds']:>8.3f} s "
                  f"({r['ms_per_server']:.2f} ms/server) peak RSS {r['peak_rss_mb']:>6} MB "
                  f"[{r['device']}, {r['threads']} threads]{gpu}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
