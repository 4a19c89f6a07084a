"""The run's side of the alert timeline (timeline/): hands it how each server's metrics were
scored, and stamps each served alert with `since`, when its alert opened."""
from core.times import iso
from feeds.schema import SLOT_SECONDS
from timeline.recording import Reading, record_run

from .scoring import PROBLEMS


def calm_message(metric: str) -> str:
    return f"{PROBLEMS[metric]} no longer expected"


def advance_timeline(team_id, tick: int, known: list, scores: list, alerts: list, slot: int):
    """scores: [(server, ServerScore)] of the run; alerts: its alert dicts, which gain `since`
    (ISO; the run's own data time for an alert it opened)."""
    by_pair = {(a["server_name"], a["metric"]): a for a in alerts}
    by_server = dict(scores)

    def reading_of(server, metric):
        alert = by_pair.get((server, metric))
        if alert is not None:
            return Reading(alert["level"], alert["risk_score"], alert["message"], alert.get("time_to_issue"))
        # not alerted: below the degraded line (floored, since the stored risk is rounded to 0.1)
        return Reading("healthy", int(by_server[server].metrics[metric]["risk"]), calm_message(metric))

    opened = record_run(team_id, tick, slot, by_pair, set(by_server), set(known), reading_of)
    for pair, alert in by_pair.items():
        alert["since"] = iso(opened.get(pair, slot) * SLOT_SECONDS)
