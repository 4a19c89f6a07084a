"""The history endpoints' query parameters, checked and turned into what the queries need; a bad
one raises core.errors.BadParameter (400, naming it)."""
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from core.errors import BadParameter
from core.params import parse_moment, parse_order, reject_unknown, show
from feeds.schema import METRICS, SLOT_SECONDS

from .days import moment_of, slot_of

MAX_SPAN = timedelta(days=31)
DEFAULT_SPAN = timedelta(days=1)
MAX_SERVERS = 1000  # names in one `servers` parameter


@dataclass(frozen=True)
class Span:
    """The 5-minute slots first_slot <= slot < end_slot."""

    first_slot: int
    end_slot: int

    @property
    def start(self) -> datetime:
        return moment_of(self.first_slot)

    @property
    def end(self) -> datetime:
        return moment_of(self.end_slot)


def parse_span(params, now: datetime = None) -> Span:
    """`start` (floored to the 5-minute grid) and `end` (exclusive): ISO 8601, UTC without a zone.
    Defaults: end now, start a day before end. At most MAX_SPAN apart."""
    end = parse_moment("end", params.get("end")) or (now or datetime.now(timezone.utc))
    start = parse_moment("start", params.get("start")) or end - DEFAULT_SPAN
    parse_order("start", start, "end", end)
    if end - start > MAX_SPAN:
        raise BadParameter("end", f"the range from start is {_days(end - start)}; at most "
                                  f"{MAX_SPAN.days} days per request (split it)")
    return Span(slot_of(start), -(-int(end.timestamp()) // SLOT_SECONDS))


def parse_metrics(raw) -> tuple:
    """A comma-separated subset of the 14 metrics, in the order given; all of them by default."""
    if raw is None:
        return METRICS
    names = [name.strip() for name in raw.split(",")]
    unknown = [name for name in names if name not in METRICS]
    if unknown:
        raise BadParameter("metrics", f"unknown metric {show(unknown[0])}; known: {', '.join(METRICS)}")
    return tuple(dict.fromkeys(names))


def parse_servers(raw):
    """A comma-separated list of server names, or None (every server)."""
    if raw is None:
        return None
    names = list(dict.fromkeys(name for name in raw.split(",") if name))
    if not names:
        raise BadParameter("servers", "no server name given")
    if len(names) > MAX_SERVERS:
        raise BadParameter("servers", f"{len(names)} servers; at most {MAX_SERVERS} per request")
    return names


def _days(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 86400:.4g} days"

