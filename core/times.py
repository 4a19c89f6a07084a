"""How Argus writes a moment in its JSON documents."""
from datetime import datetime, timezone


def iso(epoch_seconds) -> str:
    """'2025-01-15T10:05:00Z' (UTC, whole seconds)."""
    return datetime.fromtimestamp(int(epoch_seconds), timezone.utc).isoformat().replace("+00:00", "Z")
