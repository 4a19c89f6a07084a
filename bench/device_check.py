"""The workers' device path: load the model the way a worker does (device chosen
automatically), forecast a fleet on that device and on the CPU, and compare.

  python bench/device_check.py [--servers 1000] [--model DIR]

Prints the device picked, the largest difference between the two forecasts, and the time of
each (median of 3 after a warm-up). Exits non-zero if they disagree by more than 1e-3."""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.inference import make_inputs, model_dir  # noqa: E402
from inference.model.storage import load_forecaster  # noqa: E402


def timed(forecaster, values, end_times, profiles):
    import torch

    forecaster.predict(values[:64], end_times[:64], profiles[:64])
    times = []
    for _ in range(3):
        started = time.perf_counter()
        out = forecaster.predict(values, end_times, profiles)
        if forecaster.device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    return out, float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", type=int, default=1000)
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    values, end_times, profiles = make_inputs(args.servers)
    auto = load_forecaster(model_dir(args.model))  # what a worker does with ARGUS_DEVICE unset
    cpu = load_forecaster(model_dir(args.model), device="cpu")
    auto_out, auto_s = timed(auto, values, end_times, profiles)
    cpu_out, cpu_s = timed(cpu, values, end_times, profiles)
    diff = float(np.nanmax(np.abs(auto_out - cpu_out)))
    print(f"device picked: {auto.device}; {args.servers} servers: {auto.device} {auto_s:.3f} s, "
          f"cpu {cpu_s:.3f} s; max |difference| {diff:.2e}")
    sys.exit(0 if diff <= 1e-3 else 1)


if __name__ == "__main__":
    main()
