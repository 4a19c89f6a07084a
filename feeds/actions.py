"""Business actions of feeds/, as plain functions the views call (views stay thin)."""
from . import windows
from .records import Batch
from .signals import batch_accepted, server_forgotten


def accept_batch(team_id, batch: Batch) -> windows.TeamStats:
    """Stores a validated batch in the team's windows, then announces it (inference listens and
    asks for a prediction run). The batch is stored whatever a listener does."""
    stats = windows.append_batch(team_id, batch)
    batch_accepted.send(sender=accept_batch, team_id=team_id, tick=stats.tick,
                        warmup_complete=stats.warmup_complete)
    return stats


def forget_server(team_id, server_name: str):
    """Drops a server's window now (a decommissioned server) and announces it. Returns the
    points it held, or None if the team has no such server."""
    held = windows.forget_server(team_id, server_name)
    if held is not None:
        server_forgotten.send(sender=forget_server, team_id=team_id, server_name=server_name)
    return held
