"""Train the forecasting model on a simulated fleet (plus optional real series) and save it; or,
with --team, fine-tune a team's active model on its history (a registry job, run here)."""
import json
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from feeds.schema import SLOTS_PER_DAY


class Command(BaseCommand):
    help = ("Train the TFT forecaster on a simulated fleet (and optional real series: NAB or "
            "feed-schema CSVs) with a time-based validation split and early stopping.")

    def add_arguments(self, parser):
        parser.add_argument("--servers", type=int, default=48, help="simulated fleet size")
        parser.add_argument("--days", type=float, default=21, help="simulated days per server")
        parser.add_argument("--seed", type=int, default=0, help="simulation and training seed")
        parser.add_argument("--incident-rate", type=float, default=0.1)
        parser.add_argument("--variety", action="store_true",
                            help="simulated hosts on other clocks and with 5-minute CPU jitter "
                                 "(simulator.Variety), like real hosts")
        parser.add_argument("--epochs", type=int, default=20, help="maximum epochs")
        parser.add_argument("--batches-per-epoch", type=int, default=150)
        parser.add_argument("--batch-size", type=int, default=64)
        parser.add_argument("--val-days", type=float, default=2,
                            help="last days of every series held out for validation")
        parser.add_argument("--patience", type=int, default=4, help="early-stopping patience")
        parser.add_argument("--hidden-size", type=int, default=24)
        parser.add_argument("--learning-rate", type=float, default=3e-3)
        parser.add_argument("--target-weights", default=None,
                            help="loss weight per target, comma-separated in the targets' order "
                                 "(cpu_pct,mem_used_pct,cpu_iowait_pct,swap_used_pct,"
                                 "load_average,disk_usage_pct)")
        parser.add_argument("--loss", choices=("natural", "scaled", "mixed"), default="mixed",
                            help="natural: quantile loss in natural units; scaled: in units of "
                                 "each window's spread (every series and metric counts alike); "
                                 "mixed (default): scaled plus 0.2 x natural (see docs/model.md)")
        parser.add_argument("--max-minutes", type=float, default=None, help="stop after this long")
        parser.add_argument("--extra-series", nargs="*", default=[], metavar="FILE",
                            help="real series to train on too (NAB timestamp,value, wide real-host "
                                 "series_id or feed CSV)")
        parser.add_argument("--fold", choices=("all", "train"), default="all",
                            help="train: only the extra series of the host split's training fold "
                                 "(series_io.host_fold), so evaluate_model --fold eval stays unseen")
        parser.add_argument("--extra-copies", type=int, default=1,
                            help="sample each extra series this many times per epoch")
        parser.add_argument("--init", default=None, metavar="MODEL_DIR",
                            help="start from this model's weights (same inputs and --hidden-size)")
        parser.add_argument("--threads", type=int, default=None, help="torch threads")
        parser.add_argument("--loader-workers", type=int, default=0,
                            help="processes building training batches in parallel (use with --threads 1)")
        parser.add_argument("--accelerator", default="cpu", help="cpu or gpu")
        parser.add_argument("--output", default=str(settings.ARGUS_MODEL_DIR),
                            help="model directory (default: ARGUS_MODEL_DIR, the shipped model)")
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument("--team", default=None, metavar="SLUG",
                            help="fine-tune the team's active model on the team's newest --days days of "
                                 "history instead (a training job, run here rather than on the trainer; "
                                 "backtested and activated if better, as POST /models/train does)")

    def handle(self, *args, **o):
        if o["team"]:
            return self.fine_tune(o)
        import torch

        from inference.model.storage import save_forecaster
        from inference.model.training import Series, TrainConfig, train_forecaster
        from inference.series_io import host_fold, read_series_file, records_to_series
        from inference.simulator import simulate_fleet

        if o["threads"]:
            torch.set_num_threads(o["threads"])
        started = time.monotonic()
        series = []
        if o["servers"] > 0:
            records, incidents = simulate_fleet(o["servers"], o["days"], o["seed"],
                                                incident_rate=o["incident_rate"],
                                                variety=o["variety"])
            series += [Series.of(s) for s in records_to_series(records, source="simulated")]
            self.stdout.write(f"simulated {o['servers']} servers x {o['days']} days "
                              f"(seed {o['seed']}, {len(incidents)} incidents)")
        extras = []
        for path in o["extra_series"]:
            try:
                for s in read_series_file(path):
                    if o["fold"] == "train" and host_fold(s["group"]) != "train":
                        continue
                    for k in range(o["extra_copies"]):
                        extras.append(Series.of({**s, "name": f"{s['name']}#{k}"}))
            except (OSError, ValueError) as e:
                raise CommandError(str(e))
        series += extras
        if not series:
            raise CommandError("nothing to train on (--servers 0 and no --extra-series)")
        cfg = TrainConfig(
            epochs=o["epochs"], batch_size=o["batch_size"],
            batches_per_epoch=o["batches_per_epoch"], val_steps=int(o["val_days"] * SLOTS_PER_DAY),
            hidden_size=o["hidden_size"], hidden_continuous_size=max(4, o["hidden_size"] // 2),
            learning_rate=o["learning_rate"], patience=o["patience"],
            loss=o["loss"],
            target_weights=(tuple(float(w) for w in o["target_weights"].split(","))
                            if o["target_weights"] else None),
            max_minutes=o["max_minutes"], seed=o["seed"], progress=not o["no_progress"],
            loader_workers=o["loader_workers"], accelerator=o["accelerator"],
        )
        description = {
            "command": "manage.py train_model " + " ".join(
                f"--{k.replace('_', '-')}"
                + ("" if v is True else f" {v if not isinstance(v, list) else ' '.join(v)}")
                for k, v in o.items()
                if k in ("servers", "days", "seed", "incident_rate", "variety", "epochs", "batches_per_epoch",
                         "batch_size", "val_days", "patience", "hidden_size", "learning_rate",
                         "target_weights", "loss", "max_minutes", "extra_series", "extra_copies",
                         "threads", "loader_workers", "accelerator", "fold", "init")
                and v is not False and v not in (None, [])),
            "simulated": {"servers": o["servers"], "days": o["days"], "seed": o["seed"],
                          "incident_rate": o["incident_rate"], "variety": o["variety"]},
            "extra_series": [Path(p).name for p in o["extra_series"]],
            "fold": o["fold"],
        }
        self.stdout.write(f"training on {len(series)} series ...")
        init = None
        if o["init"]:
            from inference.model.storage import load_forecaster
            from inference.model.spec import ModelLoadError

            try:
                init = load_forecaster(o["init"], device="cpu")
            except ModelLoadError as e:
                raise CommandError(str(e))
            description["init"] = {"version": init.version, "command": (init.training or {}).get("command")}
        try:
            result = train_forecaster(series, cfg, description=description, init=init)
        except ValueError as e:
            raise CommandError(str(e))
        out = save_forecaster(result.forecaster, o["output"])
        size = sum(f.stat().st_size for f in Path(out).iterdir())
        summary = {**result.summary, "version": result.forecaster.version,
                   "output": str(out), "size_bytes": size,
                   "total_seconds": round(time.monotonic() - started, 1),
                   "threads": torch.get_num_threads()}
        self.stdout.write("summary: " + json.dumps(summary))

    def fine_tune(self, o):
        from feeds.models import Team
        from registry.finetune import run_job
        from registry.jobs import JobConflict, NotEnoughHistory, create_job

        team = Team.objects.filter(slug=o["team"]).first()
        if team is None:
            raise CommandError(f"no team {o['team']!r}")
        try:
            job = create_job(team, o["max_minutes"] or 10, int(o["days"]), requested_by="manage.py train_model")
        except (JobConflict, NotEnoughHistory) as e:
            raise CommandError(str(e))
        self.stdout.write(f"job {job.pk}: fine-tuning for {team.slug}, {job.max_minutes:g} minutes at most ...")
        state = run_job(job.pk)
        job.refresh_from_db()
        self.stdout.write(job.log)
        if state != "succeeded":
            raise CommandError(f"job {job.pk} {state}")
