"""notify/ listens to timeline/ (which never imports it): each run's transitions go to the
team's outbox. This runs on the prediction run's path, so it only queues, and a failure costs
the notifications (logged), never the run."""
import logging

from django.dispatch import receiver

from timeline.signals import alert_transitions

from . import outbox

log = logging.getLogger(__name__)


@receiver(alert_transitions)
def queue_transitions(sender, team_id, transitions, **kwargs):
    try:
        outbox.enqueue(team_id, transitions)
    except Exception:  # Redis or the broker unreachable: the run itself must go on
        log.warning("team %s: %d alert transitions not queued for notification", team_id, len(transitions),
                    exc_info=True)
