"""Slots and days: the 5-minute grid (feeds.schema) and the UTC days that group it."""
from datetime import date, datetime, timedelta, timezone

from feeds.schema import SLOT_SECONDS, SLOTS_PER_DAY

EPOCH = date(1970, 1, 1)


def day_of_number(number: int) -> date:
    """The date of day `number` since the epoch (slot // SLOTS_PER_DAY)."""
    return EPOCH + timedelta(days=int(number))


def number_of_day(day: date) -> int:
    return (day - EPOCH).days


def slot_of(moment: datetime) -> int:
    """The 5-minute slot holding `moment` (an aware datetime)."""
    return int(moment.timestamp()) // SLOT_SECONDS


def moment_of(slot: int) -> datetime:
    return datetime.fromtimestamp(int(slot) * SLOT_SECONDS, timezone.utc)


def first_slot(day: date) -> int:
    return number_of_day(day) * SLOTS_PER_DAY


def oldest_kept_day(history_days: int, today: date = None) -> date:
    """The oldest day retention keeps: a point stays at least `history_days` days."""
    today = today or datetime.now(timezone.utc).date()
    return today - timedelta(days=history_days)
