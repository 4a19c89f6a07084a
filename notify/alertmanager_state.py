"""What Alertmanager has been told about a team's alerts (core/keys.py `notify:alertmanager`):
"<metric>\\t<server>" -> the alert (labels, annotations, startsAt, and resolvedAt once resolved).
Only the notifier task holding the team's lock reads or writes it (notify.notifier).

Bounded by the team's open alerts (the timeline's own bound) plus the recently resolved ones,
which stay until Alertmanager took them, or until it would have resolved them by itself
(their last endsAt) if it never answers."""
import json
from datetime import datetime, timedelta

from core import keys
from core.redis import get_redis

from .events import alertmanager_entry, iso, parse_iso


def field(server: str, metric: str) -> str:
    return f"{metric}\t{server}"


def read(team_id) -> dict:
    raw = get_redis().hgetall(keys.team(team_id).notify_alertmanager)
    return {f.decode(): json.loads(v) for f, v in raw.items()}


def write(team_id, entries: dict):
    key = keys.team(team_id).notify_alertmanager
    with get_redis().pipeline(transaction=True) as pipe:
        pipe.delete(key)
        if entries:
            pipe.hset(key, mapping={f: json.dumps(e, separators=(",", ":")) for f, e in entries.items()})
        pipe.execute()


def apply(entries: dict, team_slug: str, transitions: list, now: datetime) -> list:
    """Moves `entries` (in place) through the transitions, oldest first. Returns the alerts a
    level change replaced, resolved: severity is a label, so a warning that becomes critical is
    another alert for Alertmanager, and the warning must end."""
    replaced = []
    for t in transitions:
        f = field(t["server_name"], t["metric"])
        current = entries.get(f)
        if t["event"] == "resolved":
            if current is None:  # opened before Alertmanager was set up, or its event was lost
                current = alertmanager_entry(team_slug, {**t, "level": t["previous_level"]}, now)
            entries[f] = {**current, "resolvedAt": iso(now)}
            continue
        new = alertmanager_entry(team_slug, t, now)
        if current is not None and "resolvedAt" not in current and current["labels"] != new["labels"]:
            replaced.append({**current, "resolvedAt": iso(now)})
        entries[f] = new
    return replaced


def reconcile(entries: dict, open_pairs: set, now: datetime):
    """Resolves (in place) the firing alerts the timeline no longer holds without a transition:
    a forgotten server's, or a server whose window expired."""
    for f, entry in entries.items():
        pair = (entry["labels"]["server"], entry["labels"]["metric"])
        if "resolvedAt" not in entry and pair not in open_pairs:
            entries[f] = {**entry, "resolvedAt": iso(now)}


def drop_settled(entries: dict, now: datetime, firing_for: timedelta, delivered: bool):
    """Removes (in place) the resolved alerts Alertmanager took (`delivered`) or has resolved by
    itself since (the last endsAt it was sent has passed)."""
    for f in [f for f, e in entries.items() if "resolvedAt" in e]:
        if delivered or parse_iso(entries[f]["resolvedAt"]) + firing_for < now:
            del entries[f]
