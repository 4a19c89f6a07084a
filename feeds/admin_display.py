"""How the admin writes moments and missing values: "3 minutes ago", with the exact UTC time on
hover (and in the element's datetime attribute, which the browser test reads)."""
from datetime import datetime, timezone as dt_timezone

from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

UNAVAILABLE = "unavailable (Redis unreachable)"


def moment(when, empty="never"):
    """`when` (an aware datetime or an ISO 8601 string) as "<how long> ago", or `empty`."""
    if when is None:
        return empty
    if isinstance(when, str):
        when = datetime.fromisoformat(when.replace("Z", "+00:00"))
    exact = when.astimezone(dt_timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    ago = "just now" if (timezone.now() - when).total_seconds() < 60 else f"{timesince(when)} ago"
    return format_html('<time datetime="{}" title="{}">{}</time>', when.isoformat(), exact, ago)
