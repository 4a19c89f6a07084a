"""A demo feeder: posts a simulated fleet over HTTP exactly like a real feeder would."""
import time
from datetime import datetime, timedelta, timezone

import pandas as pd
import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from feeds.schema import SLOT_SECONDS
from inference.simulator import simulate_fleet

STEP = timedelta(seconds=SLOT_SECONDS)
LIVE_DAYS = 2  # simulated beyond the backfill, for the live ticks


class Command(BaseCommand):
    help = ("Feed a simulated fleet to Argus over HTTP: --backfill-days of history first, then one "
            "batch per 5 minutes of data time. The timeline is chosen so that one server is a few "
            "hours from an incident when the backfill ends.")

    def add_arguments(self, parser):
        parser.add_argument("--url", required=True, help="Argus base URL, e.g. http://127.0.0.1:8000")
        parser.add_argument("--key", required=True, help="the team's API key")
        parser.add_argument("--servers", type=int, default=45)
        parser.add_argument("--speed", type=float, default=1.0,
                            help="data minutes per wall minute while catching up (1 = real time)")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--ticks", type=int, default=None, help="stop after this many live ticks")
        parser.add_argument("--backfill-days", type=float, default=1.0,
                            help="days of history sent first, as fast as the feed allows")

    def handle(self, url, key, servers, speed, seed, ticks, backfill_days, **options):
        if speed <= 0:
            raise CommandError("--speed must be positive")
        if backfill_days <= 0:
            raise CommandError("--backfill-days must be positive")
        self.session = requests.Session()
        self.endpoint = url.rstrip("/") + "/feed/data"
        self.key = key
        records, incidents = simulate_fleet(servers, days=backfill_days + LIVE_DAYS, seed=seed, incident_rate=0.15)
        pivot, story = pick_pivot(records, incidents, pd.Timedelta(days=backfill_days))
        # Data time: the backfill ends at `pivot`, shown as now minus a lead that live ticks
        # replay at --speed until they reach the wall clock (no point is ever from the future).
        lead = timedelta(hours=2) if speed > 1 else timedelta(0)
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        anchor = pd.Timestamp(now - lead).floor(f"{SLOT_SECONDS}s")
        offset = anchor - pivot
        by_time = {t: frame for t, frame in records.groupby("timestamp")}
        times = sorted(by_time)

        history = [t for t in times if pivot - timedelta(days=backfill_days) < t <= pivot]
        self.stdout.write(f"Backfilling {len(history)} ticks of {servers} servers ({story}) ...")
        per_request = max(1, settings.ARGUS_MAX_RECORDS // servers)  # as few requests as the limit allows
        for i in range(0, len(history), per_request):
            chunk = history[i:i + per_request]
            self.post(pd.concat([by_time[t] for t in chunk]), offset)

        live = [t for t in times if t > pivot][:ticks]
        started = time.monotonic()
        for k, t in enumerate(live, start=1):
            data_time = (t + offset).to_pydatetime().replace(tzinfo=timezone.utc)
            replay_due = started + k * SLOT_SECONDS / speed
            wait = max(replay_due - time.monotonic(), (data_time - datetime.now(timezone.utc)).total_seconds())
            if wait > 0:
                time.sleep(wait)
            body = self.post(by_time[t], offset)
            self.stdout.write(f"tick {body.get('tick')}: {data_time:%Y-%m-%d %H:%M} UTC, {body.get('status')}")

    def post(self, frame, offset):
        frame = frame.assign(timestamp=(frame["timestamp"] + offset).dt.strftime("%Y-%m-%dT%H:%M:%S"))
        payload = {"records": frame.to_dict("records")}
        for attempt in range(8):
            try:
                response = self.session.post(self.endpoint, json=payload, headers={"X-API-Key": self.key}, timeout=30)
            except requests.ConnectionError as exc:
                wait, reason = min(2 ** attempt, 30), f"connection failed ({exc.__class__.__name__})"
            else:
                if response.status_code == 200:
                    return response.json()
                if response.status_code == 429 or response.status_code >= 500:
                    wait = int(response.headers.get("Retry-After", min(2 ** attempt, 30)))
                    reason = f"HTTP {response.status_code}"
                else:
                    raise CommandError(f"HTTP {response.status_code}: {response.text[:500]}")
            self.stderr.write(f"{reason}; retrying in {wait}s")
            time.sleep(wait)
        raise CommandError("giving up after 8 attempts")


def pick_pivot(records, incidents, backfill=pd.Timedelta(days=1)):
    """The simulated time at which the backfill ends: 90 minutes before the breach of an
    incident that builds up for at least two hours after the backfill (a memory leak if
    there is one: the clearest story), or the end of the backfill."""
    start = records["timestamp"].min()
    candidates = incidents.dropna(subset=["breach_time"])
    candidates = candidates[(candidates["breach_time"] - candidates["onset"] >= pd.Timedelta(hours=2))
                            & (candidates["onset"] >= start + backfill + pd.Timedelta(hours=1))]
    if candidates.empty:
        return start + backfill, "no incident building"
    candidates = candidates.assign(leak=candidates["kind"] != "memory_leak")
    incident = candidates.sort_values(["leak", "breach_time"]).iloc[0]
    pivot = (incident["breach_time"] - pd.Timedelta(minutes=90)).floor(f"{SLOT_SECONDS}s")
    return pivot, f"{incident['server_name']}: {incident['kind']} building, simulated breach in ~90 minutes"
