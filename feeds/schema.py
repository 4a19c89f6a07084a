"""The feed contract's record schema (METRICS_FEED_GUIDE.md, data schema v2.0.0).

Plain Python with no Django imports: the model code and the simulator share these names."""

# The numeric metrics in the order every array in Argus uses (window store, model inputs).
METRICS = (
    "cpu_user_pct",
    "cpu_sys_pct",
    "cpu_iowait_pct",
    "cpu_idle_pct",
    "java_cpu_pct",
    "mem_used_pct",
    "swap_used_pct",
    "disk_usage_pct",
    "net_in_mb_s",
    "net_out_mb_s",
    "back_close_wait",
    "front_close_wait",
    "load_average",
    "uptime_days",
)
INTEGER_METRICS = frozenset({"back_close_wait", "front_close_wait", "uptime_days"})
PERCENT_METRICS = frozenset(
    {
        "cpu_user_pct",
        "cpu_sys_pct",
        "cpu_iowait_pct",
        "cpu_idle_pct",
        "java_cpu_pct",
        "mem_used_pct",
        "swap_used_pct",
        "disk_usage_pct",
    }
)
# Upper bounds of the metrics the contract leaves open ("0+"). Far above any real server, yet
# small enough that float32 (the window store) keeps them finite, and the counts exact
# (float32 holds every integer up to 2**24 = 16,777,216).
OPEN_METRIC_MAXIMA = {
    "net_in_mb_s": 1_000_000.0,  # 1 TB/s: ten 800 Gbit/s interfaces
    "net_out_mb_s": 1_000_000.0,
    "back_close_wait": 10_000_000,
    "front_close_wait": 10_000_000,
    "load_average": 1_000_000.0,
}
# uptime_days above this is accepted and stored as this (real servers run longer than a year).
UPTIME_CAP_DAYS = 365

# Status values in the contract's order; the index is what the window store keeps.
STATUSES = (
    "critical_issue",
    "healthy",
    "heavy_load",
    "idle",
    "maintenance",
    "morning_spike",
    "offline",
    "recovery",
)

REQUIRED_FIELDS = ("timestamp", "server_name", "status") + METRICS

# Server profiles by name prefix (the contract's table); first match wins, longest first.
PROFILE_PREFIXES = (
    ("ppcond", "conductor_mgmt"),
    ("pprisk", "risk_analytics"),
    ("ppapi", "web_api"),
    ("ppetl", "data_ingest"),
    ("ppml", "ml_compute"),
    ("ppdb", "database"),
)
PROFILES = tuple(p for _, p in PROFILE_PREFIXES) + ("generic",)

SLOT_SECONDS = 300  # the model's 5-minute grid
SLOTS_PER_DAY = 24 * 3600 // SLOT_SECONDS  # 288: a day of slots, the daily season

# CLOSE_WAIT socket counts: what a connection leak grows.
CLOSE_WAIT_METRICS = ("back_close_wait", "front_close_wait")


def cpu_pct_from_idle(idle):
    """cpu_pct, total CPU busy (the forecast and displayed CPU metric), from cpu_idle_pct."""
    return 100.0 - idle


def idle_from_cpu_pct(cpu):
    """cpu_idle_pct for a total CPU busy percentage (the inverse of cpu_pct_from_idle)."""
    return 100.0 - cpu


def profile_of(server_name: str) -> str:
    name = server_name.lower()
    for prefix, profile in PROFILE_PREFIXES:
        if name.startswith(prefix):
            return profile
    return "generic"
