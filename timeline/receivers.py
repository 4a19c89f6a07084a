"""timeline/ listens to feeds/ (which never imports it): a forgotten server's alerts go, open and
past, as its point history does (history.receivers)."""
from django.dispatch import receiver

from feeds.signals import server_forgotten

from . import state
from .models import AlertEvent


@receiver(server_forgotten)
def forget_alerts(sender, team_id, server_name, **kwargs) -> bool:
    """True if the server had an open alert or alert events."""
    had_open = state.forget_server(team_id, server_name)
    deleted, _ = AlertEvent.objects.filter(team_id=team_id, server_name=server_name).delete()
    return had_open or deleted > 0
