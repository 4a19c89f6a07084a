"""Who sees which team: a user sees the teams they are a member of; staff see every team.

The team a page shows is the one picked in the switcher (kept in the session), checked against
the user's teams on every request: a session never grants more than the memberships do, and a
membership removed in admin takes effect on the next request."""
from feeds.models import Team

SESSION_KEY = "dashboard_team"


def teams_of(user):
    """The teams `user` may see, by slug."""
    if not user.is_authenticated or not user.is_active:
        return Team.objects.none()
    if user.is_staff:
        return Team.objects.order_by("slug")
    return Team.objects.filter(memberships__user=user).order_by("slug").distinct()


def current_team(request):
    """The team this request's pages show: the one picked in the switcher if the user may
    still see it, else their first team; None for a user with no team."""
    teams = teams_of(request.user)
    picked = request.session.get(SESSION_KEY)
    if picked is not None:
        team = teams.filter(pk=picked).first()
        if team is not None:
            return team
    return teams.first()


def pick_team(request, slug) -> bool:
    """Makes the team with this slug the one shown, if the user may see it."""
    team = teams_of(request.user).filter(slug=slug).first()
    if team is None:
        return False
    request.session[SESSION_KEY] = team.pk
    return True
