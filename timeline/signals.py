"""What the alert timeline announces, for apps that act on it (notify/ pushes transitions to
Alertmanager and team webhooks) without timeline/ importing them."""
from django.dispatch import Signal

# Sent by a prediction run's worker once the run's open alerts are saved (timeline.recording),
# with team_id and transitions: a list of dicts, one per transition of the run (see
# recording.transition_dict). Never sent twice for one tick. Receivers run on the run's path:
# they must only enqueue (no network calls but one to Redis) and must not raise.
alert_transitions = Signal()
