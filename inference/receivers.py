"""inference/ listens to feeds/ (which never imports inference): an accepted batch asks for a run;
a forgotten server leaves the served predictions at once, and its seasonal state and waiting
forecasts (inference.accuracy) go with it."""
import logging

from django.dispatch import receiver
from kombu.exceptions import OperationalError

from core.redis import REDIS_DOWN_ERRORS
from feeds.signals import batch_accepted, server_forgotten

from . import accuracy, cache
from .dispatch import request_run
from .seasonal_state import forget_state

log = logging.getLogger(__name__)


@receiver(batch_accepted)
def ask_for_a_run(sender, team_id, tick, warmup_complete, **kwargs):
    """The batch is stored whatever happens here; if the broker is unreachable the next batch
    asks again, and /status reports the predictions as stale meanwhile."""
    if not warmup_complete:
        return
    try:
        request_run(team_id)
    except (OperationalError, *REDIS_DOWN_ERRORS):
        log.warning("team %s tick %s: could not queue a prediction run (broker unreachable)", team_id, tick)


@receiver(server_forgotten)
def drop_from_predictions(sender, team_id, server_name, **kwargs):
    cache.drop_server(team_id, server_name)
    forget_state(team_id, server_name)
    accuracy.forget_server(team_id, server_name)
