"""The rate syntax shared by settings, the team admin form and the throttle: "<count>/<period>"."""
import re

from django.core.exceptions import ValidationError

PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
RATE_RE = re.compile(r"^\s*(\d+)\s*/\s*([a-z]+)\s*$")
RATE_HELP = '"<count>/<sec|min|hour>", e.g. "60/min"'


def parse_rate(rate: str):
    """'60/min' -> (60, 60 seconds)."""
    match = RATE_RE.match(rate.lower())
    if not match or match.group(2) not in PERIODS:
        raise ValueError(f"Invalid rate {rate!r}: use {RATE_HELP}")
    return int(match.group(1)), PERIODS[match.group(2)]


def validate_rate(value: str):
    """Django field validator: the same check the throttle applies."""
    try:
        parse_rate(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
