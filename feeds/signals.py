"""How feeds/ talks to the rest of Argus without importing it (DESIGN.md: dependencies point one way).

batch_accepted: sent after a batch is stored; kwargs team_id, tick, warmup_complete.
status_requested: sent by GET /status; kwargs team_id and the team's TeamStats (both None
without a key). Each receiver returns a dict of fields to add to the response (inference adds model and prediction state)."""
from django.dispatch import Signal

batch_accepted = Signal()
status_requested = Signal()
