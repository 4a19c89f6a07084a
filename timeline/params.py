"""GET /alerts/history's query parameters; a bad one raises core.errors.BadParameter (400, naming it)."""
from dataclasses import dataclass
from datetime import datetime, timezone

from core.errors import BadParameter
from core.params import parse_int, parse_moment, parse_order, reject_unknown, show

PARAMETERS = ("since", "until", "server", "limit", "cursor")
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_SERVER_NAME = 128  # as the feed


@dataclass(frozen=True)
class Cursor:
    """Where the previous page ended: the events after it (older, or as old with a lower id)."""

    at: datetime
    event_id: int

    def __str__(self):
        return f"{int(self.at.timestamp())}-{self.event_id}"


@dataclass(frozen=True)
class HistoryQuery:
    since: datetime
    until: datetime | None
    server: str | None
    limit: int
    cursor: Cursor | None


def parse_history_query(params) -> HistoryQuery:
    reject_unknown(params, PARAMETERS)
    if params.get("since") is None:
        raise BadParameter("since", "required: an ISO 8601 date and time, e.g. 2025-01-15T10:00:00Z")
    since = parse_moment("since", params.get("since"))
    until = parse_moment("until", params.get("until"))
    if until is not None:
        parse_order("since", since, "until", until)
    server = params.get("server")
    if server is not None and not 1 <= len(server) <= MAX_SERVER_NAME:
        raise BadParameter("server", f"a server name has 1-{MAX_SERVER_NAME} characters")
    limit = parse_int("limit", params.get("limit"), DEFAULT_LIMIT, 1, MAX_LIMIT)
    return HistoryQuery(since, until, server, limit, parse_cursor(params.get("cursor")))


def parse_cursor(raw):
    if raw is None:
        return None
    seconds, _, event_id = raw.partition("-")
    if not (seconds.isascii() and seconds.isdigit() and event_id.isascii() and event_id.isdigit()) \
            or len(raw) > 40:
        raise BadParameter("cursor", f"{show(raw)} is not a cursor this endpoint returned (next_cursor)")
    return Cursor(datetime.fromtimestamp(int(seconds), timezone.utc), int(event_id))
