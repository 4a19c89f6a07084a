"""Celery tasks of notify/, on the `notify` queue (the Procfile's `notifier`: a thread pool,
since the work is waiting on HTTP, and no model is loaded):

  notify_team  sent by a prediction run that had transitions (notify.outbox), at most one
               waiting per team: drains the team's outbox at once
  notify_all   sent by celery beat every ARGUS_NOTIFY_SECONDS: drains every team's outbox,
               re-sends the firing alerts to Alertmanager, retries due webhook deliveries and
               deletes old ones. `expires` in its schedule entry: a pass that waited longer than
               an interval (no notifier running) is dropped, not run late."""
import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from feeds.models import Team

from . import notifier, outbox
from .alertmanager import Alertmanager
from .webhooks import delete_old_deliveries, deliver_due

log = logging.getLogger(__name__)

PASS_TASK = "notify.tasks.notify_all"
TEAM_BUDGET = 20  # seconds a team's task spends on its deliveries; the rest wait for the next pass
TEAMS_PER_QUERY = 1000
BUSY_RETRIES = 60


@shared_task(bind=True, name=outbox.NOTIFY_TASK, ignore_result=True, max_retries=BUSY_RETRIES)
def notify_team(self, team_id):
    result = notifier.notify_team(team_id)
    if result.busy:  # another notifier holds the team; the transitions it did not take are ours
        raise self.retry(countdown=1)
    deliver_due(team_id=team_id, budget_seconds=TEAM_BUDGET)
    if result.transitions or result.alertmanager.startswith("failed"):
        log.info("team %s: %d transitions notified, %d webhook deliveries, Alertmanager: %s", team_id,
                 result.transitions, result.deliveries, result.alertmanager)


@shared_task(name=PASS_TASK, ignore_result=True)
def notify_all():
    am = Alertmanager()
    ids = list(Team.objects.order_by("id").values_list("id", flat=True))
    for i in range(0, len(ids), TEAMS_PER_QUERY):
        for team_id in outbox.pending_teams(ids[i:i + TEAMS_PER_QUERY]):
            try:
                notifier.notify_team(team_id, am)  # a busy team is being notified right now
            except Exception:  # one team's failure must not stop the pass for the others
                log.exception("team %s: notifier pass failed; retried at the next pass", team_id)
    if am.failed:
        log.warning("Alertmanager unreachable (%s); firing alerts are re-sent at the next pass", am.failed)
    counts = deliver_due(budget_seconds=0.75 * settings.ARGUS_NOTIFY_SECONDS)
    if counts["retry"] or counts["failed"]:
        log.info("webhook deliveries: %s", counts)
    delete_old_deliveries(timezone.now())
