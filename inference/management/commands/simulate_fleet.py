"""Write a simulated fleet (feed schema) and its incident labels to CSV (or Parquet)."""
from pathlib import Path

from django.core.management.base import BaseCommand

from inference.simulator import simulate_fleet


class Command(BaseCommand):
    help = "Simulate a fleet of servers in the feed schema, with labelled incidents."

    def add_arguments(self, parser):
        parser.add_argument("--servers", type=int, default=45)
        parser.add_argument("--days", type=float, default=14)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--start", default=None, help="first timestamp (UTC), e.g. 2025-01-06")
        parser.add_argument("--incident-rate", type=float, default=0.1,
                            help="expected incidents per server per day")
        parser.add_argument("--output", required=True, help="records file (.csv or .parquet)")
        parser.add_argument("--incidents", default=None,
                            help="incident labels file (default: <output stem>_incidents.csv)")

    def handle(self, *args, **o):
        records, incidents = simulate_fleet(o["servers"], o["days"], o["seed"], start=o["start"],
                                            incident_rate=o["incident_rate"])
        out = Path(o["output"])
        out.parent.mkdir(parents=True, exist_ok=True)
        inc_path = Path(o["incidents"] or out.with_name(out.stem + "_incidents.csv"))
        records = records.assign(timestamp=records["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%S"))
        if out.suffix == ".parquet":
            records.to_parquet(out, index=False)  # needs pyarrow
        else:
            records.to_csv(out, index=False)
        incidents.to_csv(inc_path, index=False, date_format="%Y-%m-%dT%H:%M:%S")
        self.stdout.write(f"{len(records)} records for {records['server_name'].nunique()} servers "
                          f"-> {out}; {len(incidents)} incidents -> {inc_path}")
