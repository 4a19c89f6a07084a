"""Rolling-origin evaluation of a model against seasonal naive, persistence and linear trend."""
import json
import math

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def _num(v):
    """Rounded floats; NaN (nothing scorable) becomes null so the line stays strict JSON."""
    if isinstance(v, float):
        return None if math.isnan(v) else round(v, 4)
    return v


class Command(BaseCommand):
    help = ("Evaluate a model on NAB (timestamp,value) or feed-schema CSVs, or on a freshly "
            "simulated fleet (--simulated). The last output line is one JSON object.")

    def add_arguments(self, parser):
        parser.add_argument("--series", nargs="*", default=[], metavar="FILE")
        parser.add_argument("--simulated", action="store_true",
                            help="evaluate on a simulated fleet with a seed unseen in training")
        parser.add_argument("--servers", type=int, default=30)
        parser.add_argument("--days", type=float, default=8)
        parser.add_argument("--seed", type=int, default=9001)
        parser.add_argument("--model", default=None, help="model directory (default: ARGUS_MODEL_DIR)")
        parser.add_argument("--device", default=None)
        parser.add_argument("--chunk-size", type=int, default=128)
        parser.add_argument("--threads", type=int, default=None)

    def handle(self, *args, **o):
        import torch

        from inference.evaluation import evaluate
        from inference.model.spec import ModelLoadError
        from inference.model.storage import load_forecaster
        from inference.series_io import read_series_file, records_to_series
        from inference.simulator import simulate_fleet

        if o["threads"]:
            torch.set_num_threads(o["threads"])
        if not o["series"] and not o["simulated"]:
            raise CommandError("give --series FILE [FILE ...] or --simulated")
        try:
            fc = load_forecaster(o["model"] or settings.ARGUS_MODEL_DIR, device=o["device"])
        except ModelLoadError as e:
            raise CommandError(str(e))
        series = []
        for path in o["series"]:
            try:
                for s in read_series_file(path):
                    if s["source"].startswith("nab:"):
                        s["eval_targets"] = ("cpu_pct",)  # the only real metric in a NAB file
                    series.append(s)
            except (OSError, ValueError) as e:
                raise CommandError(str(e))
        if o["simulated"]:
            train_seed = ((fc.training or {}).get("simulated") or {}).get("seed")
            if train_seed == o["seed"]:
                raise CommandError(f"seed {o['seed']} was used to train this model; pick another")
            records, _ = simulate_fleet(o["servers"], o["days"], o["seed"])
            series += records_to_series(records, source=f"simulated:seed{o['seed']}")
        res = evaluate(fc, series, chunk_size=o["chunk_size"])
        w = self.stdout.write
        w(f"model {fc.version} on {len(series)} series ({res['summary']['n_origins']} origins)")
        w(f"{'series':<34}{'target':<16}{'model':>9}{'snaive':>9}{'persist':>9}{'linear':>9}"
          f"{'cov80':>7}")
        for r in res["rows"]:
            w(f"{r['series'][:33]:<34}{r['target']:<16}{r['mae_model']:>9.3f}"
              f"{r['mae_seasonal_naive']:>9.3f}{r['mae_persistence']:>9.3f}{r['mae_linear']:>9.3f}"
              f"{r['coverage_80']:>7.2f}" + ("" if r["scored"] else "  (flat, not scored)"))
        for t, b in res["by_target"].items():
            w(f"{t}: " + json.dumps({k: _num(v) for k, v in b.items()}))
        w(json.dumps({k: _num(v) for k, v in res["summary"].items()}))
