"""One prediction run's step of the alert timeline: every alert the run scored moves through
timeline.hysteresis, the open alerts are saved in Redis, and the transitions are written to the
database in one bulk insert. Called by the run (inference.runner) on its worker, never by a request.

A run is counted once: one whose tick is not newer than the tick that last wrote the state (a
redelivered task, or a run overtaken by a newer one) changes nothing, so a repeated run cannot
count as a second lower run and drop a level early. Concurrent writers of the state (possible
only when a run lost its lease) are serialised with WATCH.

Once the state is saved, the transitions are announced (timeline.signals.alert_transitions) for
notify/, which queues them for Alertmanager and the team's webhooks; the database insert comes
after, so that an unreachable database never keeps a page from going out."""
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterable

import redis
from django.db import DatabaseError, transaction

from core import keys
from core.redis import get_redis
from feeds.schema import SLOT_SECONDS

from . import state
from .hysteresis import advance
from .models import LEVELS, AlertEvent
from .signals import alert_transitions

log = logging.getLogger(__name__)

RANK = {level: rank for rank, level in enumerate(LEVELS)}
INSERT_BATCH = 1000  # rows per INSERT statement


@dataclass(frozen=True)
class Reading:
    """How the run scored one server's metric."""

    level: str  # healthy, degraded, warning or critical
    risk_score: int
    message: str
    time_to_issue: str | None = None  # e.g. "2 hours 5 minutes", "now"; None when not alerted


def record_run(team_id, tick: int, slot: int, alerting: Iterable, scored: set, known: set,
               reading_of: Callable[[str, str], Reading]) -> dict:
    """Advances the team's alerts by one run and stores the transitions. `alerting`: the
    (server, metric) pairs the run raised an alert for; `scored`: the servers the run scored
    (an open alert of a server not scored this run, e.g. too little history, keeps its state);
    `known`: every server the team holds (the open alerts of the others are dropped: their
    windows are gone); `slot`: the run's data time. Returns {(server, metric): opening slot} of
    the open alerts."""
    key = keys.team(team_id).alert_state
    with get_redis().pipeline(transaction=True) as pipe:
        while True:
            try:
                pipe.watch(key)
                last_tick, alerts = state.read(pipe.hgetall(key))
                if tick <= last_tick:
                    pipe.unwatch()
                    return {pair: alert.since for pair, alert in alerts.items()}
                after, events, readings = step(team_id, alerts, set(alerting), scored, known, slot, reading_of)
                pipe.multi()
                pipe.delete(key)
                pipe.hset(key, mapping={state.TICK_FIELD: tick,
                                        **{state.field(*pair): state.encode(a) for pair, a in after.items()}})
                pipe.execute()
                break
            except redis.WatchError:
                continue
    if events:
        alert_transitions.send(sender=AlertEvent, team_id=team_id,
                               transitions=[transition_dict(tick, e, r) for e, r in zip(events, readings)])
    store_events(team_id, events)
    return {pair: alert.since for pair, alert in after.items()}


def step(team_id, alerts: dict, alerting: set, scored: set, known: set, slot: int, reading_of):
    """(the open alerts after this run, the AlertEvent rows of its transitions, the Reading of each)."""
    after, events, readings = {}, [], []
    at = datetime.fromtimestamp(slot * SLOT_SECONDS, timezone.utc)
    for pair in alerting | {pair for pair in alerts if pair[0] in scored}:
        reading = reading_of(*pair)
        alert, transition = advance(alerts.get(pair), RANK[reading.level], slot)
        if alert is not None:
            after[pair] = alert
        if transition is not None:
            previous = None if transition.previous_level is None else LEVELS[transition.previous_level]
            events.append(AlertEvent(team_id=team_id, server_name=pair[0], metric=pair[1], event=transition.event,
                                     level=LEVELS[transition.level], previous_level=previous,
                                     risk_score=reading.risk_score, message=reading.message[:200], at=at))
            readings.append(reading)
    # servers not scored this run keep their alerts as they were; servers no longer held lose them
    after.update({pair: alert for pair, alert in alerts.items()
                  if pair[0] not in scored and pair[0] in known})
    return after, events, readings


def transition_dict(tick: int, event: AlertEvent, reading: Reading) -> dict:
    """What alert_transitions carries for one transition (JSON-ready)."""
    return {"tick": tick, "server_name": event.server_name, "metric": event.metric, "event": event.event,
            "level": event.level, "previous_level": event.previous_level, "risk_score": event.risk_score,
            "message": event.message, "time_to_issue": reading.time_to_issue,
            "at": event.at.isoformat().replace("+00:00", "Z")}


def store_events(team_id, events: list):
    """One bulk insert. A database outage loses this run's events (logged), never the run:
    its predictions are still served, and the state in Redis stays right for the next run."""
    if not events:
        return
    try:
        with transaction.atomic():  # all of the run's events or none (a savepoint inside a transaction)
            AlertEvent.objects.bulk_create(events, batch_size=INSERT_BATCH)
    except DatabaseError:
        log.warning("team %s: %d alert events not stored (database unavailable)", team_id, len(events), exc_info=True)
