"""Query parameters every read endpoint parses the same way; a bad one raises
core.errors.BadParameter (400, naming it)."""
from datetime import datetime, timezone

from .errors import BadParameter
from .times import iso

EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)  # the feed accepts nothing older
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)
MAX_SHOWN = 60  # characters of a client's value quoted back


def reject_unknown(params, known):
    """A parameter the endpoint does not take is a 400, not ignored: `server=` for `servers=`
    would otherwise export every server."""
    for name in params:
        if name not in known:
            raise BadParameter(show(name), f"unknown parameter; this endpoint takes {', '.join(known)}")


def parse_moment(name: str, raw):
    """An ISO 8601 date and time (no zone means UTC) as an aware datetime; None if absent."""
    if raw is None:
        return None
    text = raw.strip()
    # an unencoded "+02:00" in a query string arrives as " 02:00"
    if len(text) > 6 and text[-6] == " " and text[-5:-3].isdigit():
        text = text[:-6] + "+" + text[-5:]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadParameter(name, f"{show(raw)} is not an ISO 8601 date and time, e.g. 2025-01-15T10:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    if not EARLIEST <= moment < LATEST:
        raise BadParameter(name, f"{show(raw)} is outside {EARLIEST.year}-{LATEST.year - 1}")
    return moment


def parse_order(start_name: str, start: datetime, end_name: str, end: datetime):
    if end < start:
        raise BadParameter(end_name, f"{iso(end.timestamp())} is before {start_name} {iso(start.timestamp())}")


def parse_int(name: str, raw, default: int, lowest: int, highest: int) -> int:
    """A whole number within [lowest, highest]; `default` if absent."""
    if raw is None:
        return default
    text = raw.strip()
    if not (text.isascii() and text.isdigit()):
        raise BadParameter(name, f"{show(raw)} is not a whole number")
    value = int(text)
    if not lowest <= value <= highest:
        raise BadParameter(name, f"{value} is outside {lowest}-{highest}")
    return value


def show(value: str) -> str:
    """A client's value quoted back, cut short."""
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN - 3] + "..."
