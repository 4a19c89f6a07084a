"""The notifier's work for one team, run by the `notify` queue (notify.tasks): drain the
team's outbox into webhook deliveries and Alertmanager's view of the team, tell Alertmanager,
then try the team's due deliveries. Under the team's lock (a lease in Redis), so that two
notifier tasks never interleave one team's transitions; every step is safe to redo."""
import logging
from dataclasses import dataclass

import redis
from django.utils import timezone

from core import keys
from core.redis import get_redis
from feeds.models import Team
from timeline.state import open_alerts

from . import alertmanager_state, outbox
from .alertmanager import Alertmanager, firing_for
from .events import postable
from .webhooks import queue_deliveries

log = logging.getLogger(__name__)

DRAIN_BATCH = 500  # transitions taken from the outbox at a time
DRAIN_BATCHES = 20  # per call: a whole outbox (ARGUS_NOTIFY_OUTBOX_MAX) normally; the next call takes the rest
LOCK_LEASE = 120  # seconds; a notifier that died holds the team this long at most


@dataclass
class TeamResult:
    transitions: int = 0
    deliveries: int = 0
    alertmanager: str = "off"  # off, sent, failed (why), nothing
    busy: bool = False


def notify_team(team_id, am: Alertmanager | None = None, now=None) -> TeamResult:
    am = am or Alertmanager()
    result = TeamResult()
    lock = get_redis().lock(keys.team(team_id).notify_lock, timeout=LOCK_LEASE, blocking=False)
    if not lock.acquire():
        result.busy = True
        return result
    try:
        outbox.task_started(team_id)
        now = now or timezone.now()
        team = Team.objects.filter(id=team_id).first()
        if team is None:  # deleted: its Redis keys go with it (feeds purges them)
            return result
        entries = alertmanager_state.read(team_id) if am.configured else {}
        replaced = []
        for _ in range(DRAIN_BATCHES):
            if not (raws := outbox.peek(team_id, DRAIN_BATCH)):
                break
            batch = outbox.decode(raws)
            if am.configured:
                replaced += alertmanager_state.apply(entries, team.slug, batch, now)
            result.deliveries += queue_deliveries(team, batch, now)
            if am.configured:  # kept before the batch leaves the outbox: a later failure loses no alert
                alertmanager_state.write(team_id, entries)
            outbox.remove(team_id, raws)
            result.transitions += len(batch)
        if am.configured:
            result.alertmanager = tell_alertmanager(team_id, am, entries, replaced, now)
        else:
            alertmanager_state.write(team_id, {})  # nothing to keep (Alertmanager off or switched off)
    finally:
        try:
            lock.release()
        except redis.exceptions.LockError:  # the lease ran out: another notifier may hold the team now
            log.warning("team %s: the notifier's lease ran out before it finished", team_id)
    return result


def tell_alertmanager(team_id, am: Alertmanager, entries: dict, replaced: list, now) -> str:
    alertmanager_state.reconcile(entries, set(open_alerts(team_id)), now)
    alerts = [postable(e, now, firing_for()) for e in [*replaced, *entries.values()]]
    sent = bool(alerts) and am.send(alerts)
    alertmanager_state.drop_settled(entries, now, firing_for(), delivered=sent)
    alertmanager_state.write(team_id, entries)
    if not alerts:
        return "nothing"
    return "sent" if sent else f"failed ({am.failed})"
