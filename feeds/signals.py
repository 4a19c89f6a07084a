"""How feeds/ talks to the rest of Argus without importing it (DESIGN.md: dependencies point one way).

batch_accepted: sent by actions.accept_batch after a batch is stored; kwargs team_id, tick,
warmup_complete.
server_forgotten: sent by actions.forget_server after a server's window is dropped; kwargs
team_id, server_name."""
from django.dispatch import Signal

batch_accepted = Signal()
server_forgotten = Signal()
