"""Business actions of feeds/, as plain functions the views call (views stay thin)."""
from .records import Batch
from .signals import batch_accepted
from .windows import TeamStats, append_batch


def accept_batch(team_id, batch: Batch, limits=None) -> TeamStats:
    """Stores a validated batch in the team's windows, then announces it (inference listens and
    asks for a prediction run). The batch is stored whatever a listener does. Raises
    windows.LimitExceeded, storing nothing, if it would take the team past `limits`
    (Team.server_limits)."""
    stats = append_batch(team_id, batch, limits=limits)
    batch_accepted.send(sender=accept_batch, team_id=team_id, tick=stats.tick,
                        warmup_complete=stats.warmup_complete)
    return stats
