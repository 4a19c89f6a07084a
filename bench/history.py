"""History benchmark: database bytes per stored point, archive and read throughput.

  .venv/bin/python bench/history.py [--servers 45] [--days 30]
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/argus .venv/bin/python bench/history.py

Creates a throwaway database (Django's test database of DATABASE_URL) and a private
redis-server, simulates a fleet (inference.simulator) for the last --days days and stores it the
way /feed/data does (feeds.windows.append_batch: windows and the history stream in one script),
then runs the archiver (history.archiver.archive_all), timing it:
  backfill  a day of the fleet per archiver run, batches of up to ARGUS_MAX_RECORDS records
  live      one batch per 5-minute tick (one point per server per batch), a day of them per run
Baseline, measured in the same run on the same points: one database row per point (17 columns,
unique index on team, server and time), inserted with the driver's executemany, 10,000 rows
per transaction. Then reads: one
server over 31 days (GET /history/servers) and the whole CSV export (GET /history/export.csv)."""
import argparse
import os
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "argus_project.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-" + os.urandom(30).hex())  # a throwaway installation

from bench.sandbox import throwaway_installation  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", type=int, default=45)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()

    with throwaway_installation() as connection:
        run(args.servers, args.days, connection)


def run(n_servers, days, connection):
    from django.conf import settings

    from core import keys
    from core.redis import get_redis
    from feeds.models import Team
    from history.archiver import archive_all
    from history.params import Span
    from history.reading import export_csv, server_span
    from inference.simulator import simulate_fleet

    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    start = today - timedelta(days=days)  # `days` whole days up to today, all within retention
    records, _ = simulate_fleet(n_servers, days=days, seed=15, start=start)
    per_day = [batch_of(frame) for _, frame in records.groupby(records["timestamp"].dt.floor("D"))]
    points = sum(len(b) for b in per_day)
    print(f"Argus history benchmark: {n_servers} servers x {days} days = {points:,} points, "
          f"{connection.vendor} ({connection.settings_dict['NAME']}), {os.cpu_count()} CPUs\n")

    # backfill shape: a day per archiver run
    team = Team.objects.create(slug="bench-backfill")
    archive_seconds, stream_bytes = 0.0, None
    for batch in per_day:
        store(team.id, batch, settings.ARGUS_MAX_RECORDS)
        if stream_bytes is None:
            stream_bytes = get_redis().memory_usage(keys.team(team.id).history_stream, samples=0) / len(batch)
        started = time.perf_counter()
        archive_all()
        archive_seconds += time.perf_counter() - started
    history_bytes = table_bytes(connection, "history_serverday")

    # baseline: a row per point
    baseline_seconds = insert_rows_per_point(connection, team.id, per_day)
    baseline_bytes = table_bytes(connection, "bench_point_rows")

    # live shape: one batch per tick, a day of ticks per archiver run
    live_team = Team.objects.create(slug="bench-live")
    day = per_day[-1]
    for slot in np.unique(day.slots):
        store(live_team.id, day.subset(day.slots == slot), settings.ARGUS_MAX_RECORDS)
    live_stream_bytes = get_redis().memory_usage(keys.team(live_team.id).history_stream, samples=0) / len(day)
    started = time.perf_counter()
    live_points = archive_all().points
    live_seconds = time.perf_counter() - started

    print(f"{'':<40} {'bytes/point':>12} {'total MB':>9} {'points/s':>10}")
    print(f"{'history (a packed row per server-day)':<40} {history_bytes / points:>12.1f} "
          f"{history_bytes / 1e6:>9.1f} {points / archive_seconds:>10,.0f}")
    print(f"{'baseline (a row per point)':<40} {baseline_bytes / points:>12.1f} "
          f"{baseline_bytes / 1e6:>9.1f} {points / baseline_seconds:>10,.0f}")
    print(f"{'archive, live shape (a batch per tick)':<40} {'':>12} {'':>9} {live_points / live_seconds:>10,.0f}")
    print(f"\nRedis stream while waiting for the archiver: {stream_bytes:.1f} bytes/point in backfill batches, "
          f"{live_stream_bytes:.1f} in one-tick batches")
    print(f"packed payload before compression: {(1 + 14 * 4)} bytes/point; history stores "
          f"{history_bytes / points:.1f} including row, index and page overhead")

    name = per_day[0].server_names[0]
    span = Span(int(start.replace(tzinfo=timezone.utc).timestamp()) // 300, 0)
    span = Span(span.first_slot, span.first_slot + min(days, 31) * 288)
    started = time.perf_counter()
    for _ in range(10):
        server_span(team.id, name, span)
    read_ms = (time.perf_counter() - started) / 10 * 1000
    started = time.perf_counter()
    size = sum(len(chunk) for chunk in export_csv(team.id, Span(span.first_slot, span.first_slot + days * 288)))
    export_seconds = time.perf_counter() - started
    print(f"\nreads: one server over {min(days, 31)} days {read_ms:.1f} ms (database and decoding); "
          f"CSV export of all {points:,} points {export_seconds:.1f} s "
          f"({points / export_seconds:,.0f} rows/s, {size / 1e6:.1f} MB)")


class BenchBatch:
    """A feeds.records.Batch built from simulated frames (no JSON, no validation)."""

    def __init__(self, server_names, slots, statuses, values):
        from feeds.records import Batch

        self.batch = Batch(list(server_names), slots, statuses, values)
        self.server_names, self.slots = self.batch.server_names, slots

    def __len__(self):
        return len(self.batch)

    def subset(self, mask):
        b = self.batch
        return BenchBatch(np.array(b.server_names, dtype=object)[mask], b.slots[mask], b.statuses[mask], b.values[mask])


def batch_of(frame):
    from feeds.schema import METRICS, STATUSES, UPTIME_CAP_DAYS

    codes = {name: i for i, name in enumerate(STATUSES)}
    values = frame[list(METRICS)].to_numpy(np.float64)
    values[:, METRICS.index("uptime_days")] = np.minimum(values[:, METRICS.index("uptime_days")], UPTIME_CAP_DAYS)
    slots = (frame["timestamp"].astype("datetime64[s]").astype(np.int64).to_numpy() // 300).astype(np.int64)
    return BenchBatch(frame["server_name"].to_numpy(), slots, frame["status"].map(codes).to_numpy(np.uint8),
                      values.astype(np.float32))


def store(team_id, batch, max_records):
    from feeds.windows import append_batch

    for i in range(0, len(batch), max_records):
        mask = np.zeros(len(batch), bool)
        mask[i:i + max_records] = True
        append_batch(team_id, batch.subset(mask).batch, limits=(10**6, 10**6))


def insert_rows_per_point(connection, team_id, per_day) -> float:
    from django.db import transaction

    from feeds.schema import METRICS

    columns = ", ".join(f"{m} real" for m in METRICS)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE bench_point_rows (id integer PRIMARY KEY, team_id integer, server_name "
                       f"varchar(128), ts timestamp, status smallint, {columns})")
        cursor.execute("CREATE UNIQUE INDEX bench_point_rows_key ON bench_point_rows (team_id, server_name, ts)")
    placeholders = ", ".join(["%s"] * (5 + len(METRICS)))
    sql = f"INSERT INTO bench_point_rows (id, team_id, server_name, ts, status, {', '.join(METRICS)}) VALUES ({placeholders})"
    started, next_id = time.perf_counter(), 0
    for batch in per_day:
        b = batch.batch
        times = [datetime.fromtimestamp(int(s) * 300, timezone.utc).replace(tzinfo=None) for s in b.slots]
        rows = [(next_id + i, team_id, name, t, int(st), *map(float, v))
                for i, (name, t, st, v) in enumerate(zip(b.server_names, times, b.statuses, b.values))]
        next_id += len(rows)
        for i in range(0, len(rows), 10_000):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(sql, rows[i:i + 10_000])
    return time.perf_counter() - started


def table_bytes(connection, table) -> int:
    """The table's bytes on disk: rows, TOAST and indexes (PostgreSQL), or its pages and its
    indexes' pages (SQLite)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_total_relation_size(%s)", [table])
            return cursor.fetchone()[0]
        cursor.execute("SELECT name FROM sqlite_master WHERE tbl_name = %s", [table])
        names = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT SUM(pgsize) FROM dbstat WHERE name IN ({', '.join(['%s'] * len(names))})", names)
        return cursor.fetchone()[0]


if __name__ == "__main__":
    main()
