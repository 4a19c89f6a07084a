"""Fine-tuning benchmark (issue 17): does a team's own fine-tune pay, and what do loaded models cost?

  .venv/bin/python bench/finetune.py [--servers 24] [--days 14] [--shift-hours 7] [--minutes 10]

A throwaway installation (bench/sandbox.py). One team's history is a simulated fleet whose hosts
differ from the shipped model's training data in a stated way: their whole day runs --shift-hours
later (a fleet in another time zone, or batch work at night), so the time-of-day inputs the
model learned no longer match the hosts' own hours. The team's fine-tune runs as the trainer
runs it (registry.finetune.run_job, in this process, ARGUS_TRAINER_THREADS threads) for at most
--minutes; the backtest on the held-out days (ARGUS_BACKTEST_DAYS, never trained on) gives the
candidate's and the active (shipped) model's relative MAE (vs seasonal naive) on the same
windows: the baseline is the shipped model, measured in the same run.

Then memory: a LoadedModels cache (registry.serving, as an inference worker holds it) loads 20
teams' models; the RSS of this process before and after, per model."""
import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "argus_project.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-" + os.urandom(30).hex())  # a throwaway installation

from bench.sandbox import throwaway_installation  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", type=int, default=24)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--shift-hours", type=float, default=7)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", type=int, default=20, help="team models loaded for the memory figure")
    parser.add_argument("--seed", type=int, default=21)
    args = parser.parse_args()
    os.environ["ARGUS_TRAINER_THREADS"] = str(args.threads)
    with throwaway_installation():
        result = {"fine_tune": fine_tune(args), "memory": memory(args.models)}
    print(json.dumps(result))


def fine_tune(args) -> dict:
    import pandas as pd

    from feeds.models import Team
    from inference.simulator import simulate_fleet
    from registry.finetune import run_job
    from registry.jobs import create_job
    from registry.models import ForecastModel, TrainingJob
    from tests.registry_helpers import store_records

    team = Team.objects.create(slug="shifted")
    today = pd.Timestamp.now(tz="UTC").normalize().tz_localize(None)
    records, _ = simulate_fleet(args.servers, args.days, args.seed, start=today - pd.Timedelta(days=args.days))
    records["timestamp"] += pd.Timedelta(hours=args.shift_hours)  # the same hosts' day, hours later
    records = records[records["timestamp"] < today]
    store_records(team, records)
    job = create_job(team, args.minutes, args.days, requested_by="bench/finetune.py")
    started = time.monotonic()
    state = run_job(job.pk)
    seconds = time.monotonic() - started
    job = TrainingJob.objects.get(pk=job.pk)
    model = ForecastModel.objects.defer("blob").get(pk=job.model_id)
    figures = model.figures
    print(f"fine-tune of {args.servers} servers x {args.days} days (day shifted {args.shift_hours:g} h), "
          f"{args.minutes:g} min budget, {args.threads} threads: {state} in {seconds:.0f} s, "
          f"{model.description.get('epochs_run')} epochs")
    if figures:
        cand, act = figures["candidate"], figures["active"]
        print(f"  backtest on the last {figures['held_out_days']} days (never trained on), MAE / seasonal naive's:")
        print(f"    shipped model (baseline)  {act['relative_mase']:.3f}   coverage {act['coverage_80']:.2f}")
        print(f"    fine-tuned                {cand['relative_mase']:.3f}   coverage {cand['coverage_80']:.2f}"
              f"   ({1 - cand['relative_mase'] / act['relative_mase']:.1%} lower error)")
        print(f"  verdict: {'activated' if figures['promote'] else 'kept as a candidate'}: {figures['reason']}")
    return {"state": state, "seconds": round(seconds, 1), "figures": figures, "description": model.description}


def memory(n: int) -> dict:
    from django.conf import settings

    from feeds.models import Team
    from inference.model.storage import load_forecaster
    from registry.promotion import activate
    from registry.serving import LoadedModels
    from tests.registry_helpers import register_model

    default = load_forecaster(settings.ARGUS_MODEL_DIR, device="cpu")
    teams = [Team.objects.create(slug=f"team-{i}") for i in range(n)]
    for i, team in enumerate(teams):
        activate(team, register_model(team, f"team-{i}-model"))
    models = LoadedModels(default, max_loaded=n)
    before = rss_mb()
    for team in teams:
        assert models.for_team(team.id).forecaster.version == f"{team.slug}-model"
    after = rss_mb()
    print(f"worker memory: RSS {before:.0f} MB with the default model, {after:.0f} MB with {n} teams' models "
          f"loaded: {(after - before) / n:.1f} MB a model")
    return {"models": n, "rss_before_mb": round(before), "rss_after_mb": round(after),
            "mb_per_model": round((after - before) / n, 2)}


if __name__ == "__main__":
    main()
