"""The archiver: drains each team's history stream into ServerDay rows, then deletes what it
stored from the stream, and deletes days past ARGUS_HISTORY_DAYS.

Idempotent: entries are deleted from the stream only after the database transaction that
stored them has committed, so a run cut off anywhere is redone by the next one; storing an
entry twice writes the same slots with the same values (a point replaces its slot, as in the
windows). Entries are applied oldest first, so a re-sent point wins over the one it replaced.
A team's runs hold a lease (ARCHIVE_LEASE seconds, renewed after every chunk), so that two
runs never interleave their writes of one team."""
import logging
import time
import uuid
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction

from core import keys
from core.redis import get_redis
from feeds.models import Team
from feeds.schema import SLOTS_PER_DAY

from . import packing, stream
from .days import day_of_number, number_of_day, oldest_kept_day
from .models import ServerDay

log = logging.getLogger(__name__)

CHUNK_ENTRIES = 50  # stream entries per transaction: at most 50 batches of ARGUS_MAX_RECORDS points
SERVERS_PER_QUERY = 500  # rows are read and written for this many servers at a time
ARCHIVE_LEASE = 120  # seconds; far more than one chunk takes
DELETE_CHUNK = 5000  # expired rows per DELETE statement


class MarksChanged(Exception):
    """A server was forgotten while its points were being stored: the chunk is redone."""


@dataclass
class ArchiveResult:
    points: int = 0  # points stored (a re-sent point counts each time)
    teams: int = 0
    expired_days: int = 0  # ServerDay rows deleted by retention


def archive_all(time_budget: float = None) -> ArchiveResult:
    """Archives every team with pending points (until `time_budget` seconds have passed; the rest
    waits for the next run), then applies retention."""
    deadline = None if time_budget is None else time.monotonic() + time_budget
    result = ArchiveResult()
    for team_id in stream.pending_teams(list(Team.objects.values_list("id", flat=True))):
        result.points += archive_team(team_id, deadline)
        result.teams += 1
        if deadline is not None and time.monotonic() > deadline:
            break
    result.expired_days = delete_expired_days()
    get_redis().set(keys.history_archived(), time.time())
    return result


def archive_team(team_id, deadline: float = None) -> int:
    """Stores the team's pending points, oldest first, a chunk per transaction. Returns the
    points stored; 0 if another run holds the team."""
    token = uuid.uuid4().hex
    if not stream.take_lease(team_id, token, ARCHIVE_LEASE):
        return 0
    stored = 0
    try:
        while entries := stream.oldest_entries(team_id, CHUNK_ENTRIES):
            try:
                stored += store_entries(team_id, entries)
            except MarksChanged:
                continue
            except IntegrityError:  # the team was deleted meanwhile: its stream goes with it
                log.warning("team %s: history not stored (team deleted?)", team_id)
                break
            stream.acknowledge(team_id, entries)
            if not stream.renew_lease(team_id, token, ARCHIVE_LEASE):
                log.warning("team %s: the archiver lost its lease; stopping this run", team_id)
                break
            if deadline is not None and time.monotonic() > deadline:
                break
    finally:
        stream.release_lease(team_id, token)
    return stored


def store_entries(team_id, entries) -> int:
    """Writes the entries' points into the team's ServerDay rows, in one transaction. Returns the
    points written. Raises MarksChanged (writing nothing) if a server was forgotten meanwhile."""
    marks = stream.forgotten_marks(team_id)
    oldest_day = number_of_day(oldest_kept_day(settings.ARGUS_HISTORY_DAYS))
    points = latest_points(entries, marks)
    names = sorted(points)
    with transaction.atomic():
        for i in range(0, len(names), SERVERS_PER_QUERY):
            write_days(team_id, {name: points[name] for name in names[i:i + SERVERS_PER_QUERY]}, oldest_day)
        # checked last, inside the transaction: a forget that came after the marks were read
        # would otherwise see its deleted rows written again by this chunk
        if stream.forgotten_marks(team_id) != marks:
            raise MarksChanged()
    return sum(len(records) for records in points.values())


def latest_points(entries, marks) -> dict:
    """server -> its RECORD array of the entries, one per slot (the latest sent), sorted by slot;
    leaving out each forgotten server's points up to its mark."""
    parts = {}
    for entry in entries:
        entry_id = stream.entry_id(entry.id)
        for name, records in entry.servers():
            if name in marks and entry_id <= marks[name]:
                continue
            parts.setdefault(name, []).append(records)
    latest = {}
    for name, arrays in parts.items():
        records = np.concatenate(arrays)
        order = np.lexsort((np.arange(len(records)), records["slot"]))  # slot, then arrival
        records = records[order]
        last_of_slot = np.append(records["slot"][1:] != records["slot"][:-1], True)
        latest[name] = records[last_of_slot]
    return latest


def write_days(team_id, points: dict, oldest_day: int):
    """Merges each server's points into its day rows (creating the missing ones); points of days
    older than `oldest_day` (a replay from before retention) are not stored."""
    by_day = {}
    for name, records in points.items():
        day_numbers = records["slot"].astype(np.int64) // SLOTS_PER_DAY
        for number in np.unique(day_numbers):
            if number >= oldest_day:
                by_day[(name, day_of_number(number))] = records[day_numbers == number]
    if not by_day:
        return
    existing = {(row.server_name, row.day): row for row in ServerDay.objects.select_for_update().filter(
        team_id=team_id, server_name__in={name for name, _ in by_day}, day__in={day for _, day in by_day})}
    created, updated = [], []
    for (name, day), records in by_day.items():
        row = existing.get((name, day))
        content = packing.decode(row.data) if row else packing.Day.empty()
        content.put(records["slot"] % SLOTS_PER_DAY, records["status"], records["values"])
        if row is None:
            created.append(ServerDay(team_id=team_id, server_name=name, day=day,
                                     points=content.points, data=packing.encode(content)))
        else:
            row.points, row.data = content.points, packing.encode(content)
            updated.append(row)
    ServerDay.objects.bulk_create(created)
    ServerDay.objects.bulk_update(updated, ["points", "data"], batch_size=SERVERS_PER_QUERY)


def delete_expired_days(today=None) -> int:
    """Deletes the days older than ARGUS_HISTORY_DAYS, DELETE_CHUNK rows per statement."""
    cutoff = oldest_kept_day(settings.ARGUS_HISTORY_DAYS, today)
    deleted = 0
    while ids := list(ServerDay.objects.filter(day__lt=cutoff).values_list("id", flat=True)[:DELETE_CHUNK]):
        deleted += ServerDay.objects.filter(id__in=ids).delete()[0]
    return deleted
