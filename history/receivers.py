"""history/ listens to feeds/ (which never imports it): a forgotten server's history goes too."""
from django.dispatch import receiver

from feeds.signals import server_forgotten

from . import stream
from .models import ServerDay


@receiver(server_forgotten)
def forget_history(sender, team_id, server_name, **kwargs) -> bool:
    """Deletes the server's days, and marks the team's stream so that the archiver does not
    store the server's points accepted before now. True if the server had history."""
    stream.mark_forgotten(team_id, server_name)
    deleted, _ = ServerDay.objects.filter(team_id=team_id, server_name=server_name).delete()
    return deleted > 0
