"""A team's point history (history.models.ServerDay) as training series: what a fine-tune trains
on and backtests on. Every query is filtered by the team."""
from datetime import timedelta

import numpy as np
from django.db.models import Max, Sum

from feeds.schema import METRICS, SLOT_SECONDS, SLOTS_PER_DAY, profile_of
from history import packing
from history.days import first_slot
from history.models import ServerDay


def newest_day(team_id):
    return ServerDay.objects.filter(team_id=team_id).aggregate(day=Max("day"))["day"]


def days_held(team_id, days: int) -> int:
    """Days among the newest `days` (ending at the team's newest day of history) that hold any point."""
    newest = newest_day(team_id)
    if newest is None:
        return 0
    return (ServerDay.objects.filter(team_id=team_id, day__gt=newest - timedelta(days=days))
            .values("day").distinct().count())


def team_series(team_id, days: int, max_servers: int) -> list:
    """The team's newest `days` days as series dicts (name, profile, end_time, values [T, 14],
    NaN where no point), one per server, for at most max_servers servers (those with the most
    points, then by name: the same servers for the same history). All end at the team's newest
    point, so every server's held-out days are the same calendar days."""
    newest = newest_day(team_id)
    if newest is None:
        return []
    first = newest - timedelta(days=days - 1)
    rows = ServerDay.objects.filter(team_id=team_id, day__gte=first)
    servers = [r["server_name"] for r in rows.values("server_name").annotate(points=Sum("points"))
               .order_by("-points", "server_name")[:max_servers]]
    start = first_slot(first)
    values = np.full((len(servers), days * SLOTS_PER_DAY, len(METRICS)), np.nan, np.float32)
    index = {name: i for i, name in enumerate(servers)}
    for row in rows.filter(server_name__in=servers).iterator(chunk_size=200):
        day = packing.decode(row.data)
        offset = first_slot(row.day) - start
        slots = offset + np.flatnonzero(day.present)
        values[index[row.server_name], slots] = day.values[day.present]
    present = np.isfinite(values[:, :, 0]).any(axis=0)
    if not present.any():
        return []
    end = int(np.flatnonzero(present)[-1]) + 1  # the newest slot any server holds
    return [{"name": name, "profile": profile_of(name), "end_time": (start + end - 1) * SLOT_SECONDS,
             "values": values[i, :end]} for i, name in enumerate(servers)]
