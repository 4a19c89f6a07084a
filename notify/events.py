"""A transition as receivers see it: in a webhook body, and as an Alertmanager alert.

Pure functions of the transition dicts timeline.recording announces (and of the clock)."""
import hashlib
from datetime import datetime, timedelta, timezone

ALERTNAME = "ArgusIncidentRisk"


def event_id(team_id, transition: dict) -> str:
    """Stable across redone drains: a run is counted once per tick (timeline.recording), so the
    team, the tick and the alert identify a transition."""
    key = f"{team_id}\t{transition['tick']}\t{transition['metric']}\t{transition['server_name']}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def webhook_event(team_id, transition: dict) -> dict:
    return {"id": event_id(team_id, transition), **{k: transition[k] for k in (
        "event", "server_name", "metric", "level", "previous_level", "risk_score", "message", "time_to_issue",
        "at", "tick")}}


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def alertmanager_entry(team_slug: str, transition: dict, now: datetime) -> dict:
    """The firing alert a transition leaves (for opened, escalated, de-escalated), as kept in
    notify.alertmanager_state. startsAt is the data time of the transition, never later than
    now: data may run up to ARGUS_MAX_FUTURE_SECONDS ahead of the clock, and Alertmanager
    refuses an alert that ends before it starts."""
    return {
        "labels": {"alertname": ALERTNAME, "team": team_slug, "server": transition["server_name"],
                   "metric": transition["metric"], "severity": transition["level"]},
        "annotations": {"summary": transition["message"], "time_to_issue": transition["time_to_issue"] or "",
                        "risk_score": str(transition["risk_score"])},
        "startsAt": iso(min(parse_iso(transition["at"]), now)),
    }


def postable(entry: dict, now: datetime, firing_for: timedelta) -> dict:
    """An entry as POST /api/v2/alerts takes it: a firing one ends `firing_for` from now unless
    re-sent before (Alertmanager then resolves it by itself: a stopped notifier or a deleted team
    leaves nothing firing for ever); a resolved one ends when it was resolved."""
    ends = entry.get("resolvedAt") or iso(now + firing_for)
    return {"labels": entry["labels"], "annotations": entry["annotations"], "startsAt": entry["startsAt"],
            "endsAt": ends}
