"""Reads of a team's history: one server over a span, and every stored point for the export.
Every query is filtered by the team."""
import csv
import io

import numpy as np
from django.db import connection
from django.db.models.functions import Collate

from core.times import iso
from feeds.schema import INTEGER_METRICS, METRICS, REQUIRED_FIELDS, SLOT_SECONDS, SLOTS_PER_DAY, STATUSES
from feeds.windows import holds_server

from . import packing
from .days import day_of_number, first_slot
from .formatting import json_column, metric_texts
from .models import ServerDay
from .params import Span


def server_known(team_id, server_name: str) -> bool:
    """The team has history of the server, or holds it in its windows (its points may still be
    on their way to the archiver)."""
    return (ServerDay.objects.filter(team_id=team_id, server_name=server_name).exists()
            or holds_server(team_id, server_name))


def days_of(team_id, span: Span):
    """The team's ServerDay rows that overlap the span."""
    return ServerDay.objects.filter(team_id=team_id, day__gte=day_of_number(span.first_slot // SLOTS_PER_DAY),
                                    day__lte=day_of_number((span.end_slot - 1) // SLOTS_PER_DAY))


def server_span(team_id, server_name: str, span: Span):
    """(present bool[n], statuses uint8[n], values float32[n, 14] with NaN where absent) of the
    span's n slots."""
    n = span.end_slot - span.first_slot
    present = np.zeros(n, bool)
    statuses = np.zeros(n, np.uint8)
    values = np.full((n, len(METRICS)), np.nan, np.float32)
    for row in days_of(team_id, span).filter(server_name=server_name):
        day = packing.decode(row.data)
        offset = first_slot(row.day) - span.first_slot  # where the day's slot 0 lands in the span
        lo, hi = max(0, -offset), min(SLOTS_PER_DAY, n - offset)
        if lo >= hi:
            continue
        kept = day.present[lo:hi]
        present[offset + lo:offset + hi] = kept
        statuses[offset + lo:offset + hi][kept] = day.statuses[lo:hi][kept]
        values[offset + lo:offset + hi][kept] = day.values[lo:hi][kept]
    return present, statuses, values


def server_document(team_id, server_name: str, span: Span, metrics) -> dict:
    """GET /history/servers/<name>'s body: every slot of the span, None where none is stored."""
    present, statuses, values = server_span(team_id, server_name, span)
    return {
        "server_name": server_name,
        "step_seconds": SLOT_SECONDS,
        "start": iso(span.start.timestamp()),
        "end": iso(span.end.timestamp()),
        "timestamps": [iso(slot * SLOT_SECONDS) for slot in range(span.first_slot, span.end_slot)],
        "metrics": {name: json_column(values[:, METRICS.index(name)], name in INTEGER_METRICS) for name in metrics},
        "status": [STATUSES[code] if kept else None for code, kept in zip(statuses.tolist(), present.tolist())],
    }


def by_name():
    """Server names in code point order whatever the database's collation (PostgreSQL's
    default follows the locale), so the export's order does not depend on the deployment."""
    return Collate("server_name", "C" if connection.vendor == "postgresql" else "BINARY")


def export_csv(team_id, span: Span, servers=None):
    """The CSV export, a chunk of text per stored server-day: a header with the feed contract's
    17 fields in its order, then one row per stored point, by server, then time. Holds one
    day of one server at a time, whatever the export's size."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def flush():
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(REQUIRED_FIELDS)
    yield flush()
    rows = days_of(team_id, span)
    if servers is not None:
        rows = rows.filter(server_name__in=servers)
    rows = rows.order_by(by_name(), "day").only("server_name", "day", "data")
    for row in rows.iterator(chunk_size=100):
        day = packing.decode(row.data)
        base = first_slot(row.day)
        slots = np.flatnonzero(day.present)
        slots = slots[(base + slots >= span.first_slot) & (base + slots < span.end_slot)]
        for slot, status, values in zip(slots.tolist(), day.statuses[slots].tolist(), day.values[slots].tolist()):
            writer.writerow([iso((base + slot) * SLOT_SECONDS), row.server_name, STATUSES[status], *metric_texts(values)])
        yield flush()
