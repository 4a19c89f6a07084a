"""How feeds/ talks to the rest of Argus without importing it (DESIGN.md: dependencies point one way).

batch_accepted: sent by actions.accept_batch after a batch is stored; kwargs team_id, tick,
warmup_complete.
server_forgotten: sent by actions.forget_server after a server's window is dropped (or when a
server no longer in the windows is named); kwargs team_id, server_name. A receiver returns True
if it held anything of the server, so that forgetting a server only a listener still knew of is
not answered 404."""
from django.dispatch import Signal

batch_accepted = Signal()
server_forgotten = Signal()
