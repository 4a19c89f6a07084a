from django.conf import settings
from django.db import models

from feeds.models import Team


class Membership(models.Model):
    """A person's membership of a team: what the dashboard lets them see. A user may belong to
    several teams (a switcher picks one); staff users see every team without one."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=("user", "team"), name="one_membership_per_user_and_team")]
        ordering = ("team__slug", "user__username")

    def __str__(self):
        return f"{self.user} in {self.team}"
