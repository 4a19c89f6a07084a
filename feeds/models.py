from django.db import models
from rest_framework_api_key.models import AbstractAPIKey

from core.rates import validate_rate

RATE_HELP = 'Overrides the server default for this team, e.g. "1000/min". Blank uses the default.'
LIMIT_HELP = "Overrides the server default (%s) for this team. Blank uses the default."


class Team(models.Model):
    """A tenant. Every window, prediction and rate limit belongs to exactly one team."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    rate_feed = models.CharField(max_length=20, blank=True, validators=[validate_rate], help_text=RATE_HELP)
    rate_read = models.CharField(max_length=20, blank=True, validators=[validate_rate], help_text=RATE_HELP)
    rate_admin = models.CharField(max_length=20, blank=True, validators=[validate_rate], help_text=RATE_HELP)
    max_servers = models.PositiveIntegerField(
        null=True, blank=True, help_text=LIMIT_HELP % "ARGUS_MAX_SERVERS_PER_TEAM",
        verbose_name="max servers")
    max_new_servers_per_hour = models.PositiveIntegerField(
        null=True, blank=True, help_text=LIMIT_HELP % "ARGUS_MAX_NEW_SERVERS_PER_HOUR",
        verbose_name="max new servers per hour")

    class Meta:
        ordering = ("slug",)

    def __str__(self):
        return self.name or self.slug

    @property
    def server_limits(self):
        """(servers held, new servers per hour) this team may reach: its own, else the defaults."""
        from django.conf import settings

        return (settings.ARGUS_MAX_SERVERS_PER_TEAM if self.max_servers is None else self.max_servers,
                settings.ARGUS_MAX_NEW_SERVERS_PER_HOUR if self.max_new_servers_per_hour is None
                else self.max_new_servers_per_hour)


class TeamAPIKey(AbstractAPIKey):
    """An API key of one team: stored as a SHA-512 hash with a visible prefix; revocable, may expire."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="api_keys")
    # Requests count their key's use in Redis (core.key_usage), never here: a feed request writes
    # no row. The admin copies the last use here when it lists keys (feeds.key_usage), so that
    # its filters can query it and it outlives the Redis counters.
    last_used = models.DateTimeField(null=True, blank=True, editable=False,
                                     help_text="The last request with this key, as of the last time admin listed keys.")

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"
