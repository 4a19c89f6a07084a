"""Rolling-origin evaluation of a model against the baselines users would pick instead."""
import json
import math

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

SHORT = {"model": "argus", "tft": "tft", "seasonal_naive": "snaive", "level_adjusted_seasonal_naive": "ladj-sn",
         "persistence": "persist", "linear": "linear", "autoets": "autoets"}


def _num(v):
    """Rounded floats; NaN (nothing scorable) becomes null so the line stays strict JSON."""
    if isinstance(v, float):
        return None if math.isnan(v) else round(v, 4)
    return v


class Command(BaseCommand):
    help = ("Evaluate a model on NAB (timestamp,value), wide real-host (series_id) or feed-schema "
            "CSVs, or on a freshly simulated fleet (--simulated), against seasonal naive, "
            "level-adjusted seasonal naive, persistence, linear trend and (--autoets) AutoETS. "
            "The last output line is one JSON object.")

    def add_arguments(self, parser):
        parser.add_argument("--series", nargs="*", default=[], metavar="FILE")
        parser.add_argument("--fold", choices=("all", "train", "eval"), default="all",
                            help="only the hosts of this fold of the host split (series_io.host_fold)")
        parser.add_argument("--simulated", action="store_true",
                            help="evaluate on a simulated fleet with a seed unseen in training")
        parser.add_argument("--servers", type=int, default=30)
        parser.add_argument("--days", type=float, default=8)
        parser.add_argument("--seed", type=int, default=9001)
        parser.add_argument("--autoets", action="store_true",
                            help="also AutoETS (statsforecast; seconds per origin)")
        parser.add_argument("--origin-days", type=int, default=1,
                            help="an origin every N days instead of every day (a sample, with --autoets)")
        parser.add_argument("--model", default=None, help="model directory (default: ARGUS_MODEL_DIR)")
        parser.add_argument("--device", default=None)
        parser.add_argument("--chunk-size", type=int, default=128)
        parser.add_argument("--window", type=int, default=settings.ARGUS_WINDOW_SLOTS,
                            help="slots of history per server, as the workers read them "
                                 "(default: ARGUS_WINDOW_SLOTS)")
        parser.add_argument("--threads", type=int, default=None)

    def handle(self, *args, **o):
        import torch

        from inference.evaluation import evaluate
        from inference.model.spec import ModelLoadError
        from inference.model.storage import load_forecaster
        from inference.series_io import host_fold, read_series_file, records_to_series
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
                series += [s for s in read_series_file(path)
                           if o["fold"] == "all" or host_fold(s["group"]) == o["fold"]]
            except (OSError, ValueError) as e:
                raise CommandError(str(e))
        if o["simulated"]:
            train_seed = ((fc.training or {}).get("simulated") or {}).get("seed")
            if train_seed == o["seed"]:
                raise CommandError(f"seed {o['seed']} was used to train this model; pick another")
            records, _ = simulate_fleet(o["servers"], o["days"], o["seed"])
            series += records_to_series(records, source=f"simulated:seed{o['seed']}")
        res = evaluate(fc, series, chunk_size=o["chunk_size"], autoets=o["autoets"], origin_days=o["origin_days"],
                       window=o["window"])
        self.report(fc, series, res)

    def report(self, fc, series, res):
        w = self.stdout.write
        methods = [k[len("mae_"):] for k in res["rows"][0] if k.startswith("mae_")] if res["rows"] else []
        w(f"model {fc.version} on {len(series)} series ({res['summary']['n_origins']} origins); "
          "MAE per series, and the model's MAE relative to seasonal naive")
        w(f"{'series':<30}{'target':<15}{'class':<13}" + "".join(f"{SHORT[m]:>9}" for m in methods)
          + f"{'vs sn':>7}{'cov80':>7}")
        for r in res["rows"]:
            ratio = r["mae_model"] / r["mae_seasonal_naive"] if r["mae_seasonal_naive"] else float("nan")
            w(f"{r['series'][:29]:<30}{r['target']:<15}{r['class']:<13}"
              + "".join(f"{r['mae_' + m]:>9.3f}" for m in methods)
              + f"{ratio:>7.2f}{r['coverage_80']:>7.2f}" + ("" if r["scored"] else "  (flat, not scored)"))
        for group in ("by_target", "by_class"):
            for name, b in res[group].items():
                w(f"{name}: " + json.dumps({k: _num(v) for k, v in b.items()}))
        w(json.dumps({k: _num(v) for k, v in res["summary"].items()}))
