"""Test data in the shapes clients send and hold: records, batches, a team with a raw key."""


class Tenant:
    """A team and one raw API key of it, as a client would hold it."""

    def __init__(self, slug):
        from feeds.models import Team, TeamAPIKey

        self.team = Team.objects.create(slug=slug, name=slug.title())
        self.api_key, self.key = TeamAPIKey.objects.create_key(team=self.team, name=f"{slug}-key")

    @property
    def headers(self):
        return {"HTTP_X_API_KEY": self.key}


def make_record(server="ppdb001", timestamp="2025-01-15T10:00:00", **overrides):
    """A valid record in the feed contract's shape (the seed guide's example values)."""
    record = {
        "timestamp": timestamp, "server_name": server, "status": "healthy",
        "cpu_user_pct": 25.3, "cpu_sys_pct": 8.2, "cpu_iowait_pct": 2.1, "cpu_idle_pct": 64.4,
        "java_cpu_pct": 15.5, "mem_used_pct": 72.1, "swap_used_pct": 5.2, "disk_usage_pct": 45.8,
        "net_in_mb_s": 12.5, "net_out_mb_s": 8.3, "back_close_wait": 5, "front_close_wait": 3,
        "load_average": 2.4, "uptime_days": 45,
    }
    record.update(overrides)
    return record


def make_batch(servers=45, timestamp="2025-01-15T10:00:00", **overrides):
    return [make_record(f"ppdb{i:03d}", timestamp, **overrides) for i in range(1, servers + 1)]


def data_time(days_ago=0, hours_ago=0, minutes_ago=0):
    """An ISO timestamp (UTC, no zone, on the 5-minute grid) that long before now."""
    from datetime import datetime, timedelta, timezone

    moment = datetime.now(timezone.utc) - timedelta(days=days_ago, hours=hours_ago, minutes=minutes_ago)
    moment = moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0)
    return moment.replace(tzinfo=None).isoformat()
