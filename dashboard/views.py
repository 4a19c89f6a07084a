"""The dashboard's pages and the JSON documents their scripts fetch. Sessions, not API keys:
every view needs a logged-in user, and shows only the team picked from the user's own teams
(dashboard.access); another team's server is a 404 like a server that does not exist.

Views stay thin: the documents are built in dashboard.fleet and dashboard.server from what the
API endpoints serve."""
import functools

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.redis import redis_unavailable
from inference import explaining

from . import access
from .fleet import fleet_document
from .levels import LEVELS
from .server import RANGES, UnknownServer, server_document, server_exists


def _page_context(request, team, **extra):
    return {"team": team, "teams": list(access.teams_of(request.user)), "levels": LEVELS, **extra}


def not_found_page(request, team, message):
    return render(request, "dashboard/not_found.html", _page_context(request, team, message=message), status=404)


@require_GET
@login_required
@never_cache
def fleet_page(request):
    team = access.current_team(request)
    if team is None:
        return render(request, "dashboard/no_team.html", {"teams": []}, status=404)
    return render(request, "dashboard/fleet.html", _page_context(
        request, team, refresh_seconds=settings.ARGUS_DASHBOARD_REFRESH_SECONDS))


@require_GET
@login_required
@never_cache
def server_page(request, server_name):
    team = access.current_team(request)
    if team is None:
        return render(request, "dashboard/no_team.html", {"teams": []}, status=404)
    if not server_exists(team.id, server_name):
        return not_found_page(request, team, f"Team {team} has no server named “{server_name}”.")
    explaining.warm_up_in_background()  # the page asks for the explanation a moment later
    return render(request, "dashboard/server.html", _page_context(
        request, team, server_name=server_name, ranges=list(RANGES)))


@require_POST
@login_required
def switch_team(request):
    """The team switcher's form: shows the picked team if the user may see it."""
    if not access.pick_team(request, request.POST.get("team", "")):
        return not_found_page(request, access.current_team(request), "No such team among yours.")
    return redirect(reverse("dashboard-fleet"))


# --- JSON for the pages' scripts ------------------------------------------------------------------

def session_json(view):
    """A JSON view for the pages: 401 without a session (no redirect to a login page a script
    cannot follow), 404 for a user without a team, 503 while Redis is unavailable, and never a
    traceback."""
    @functools.wraps(view)
    @never_cache
    def wrapped(request, *args, **kwargs):
        if request.method != "GET":
            return JsonResponse({"detail": "Method not allowed"}, status=405)
        if not request.user.is_authenticated:
            return JsonResponse({"detail": "Log in first"}, status=401)
        team = access.current_team(request)
        if team is None:
            return JsonResponse({"detail": "You are not a member of any team"}, status=404)
        try:
            return view(request, team, *args, **kwargs)
        except Exception as exc:
            if redis_unavailable(exc):
                return JsonResponse({"detail": "Storage unavailable; retry shortly."}, status=503,
                                    headers={"Retry-After": "5"})
            raise
    return wrapped


@session_json
def fleet_json(request, team):
    return JsonResponse(fleet_document(team))


@session_json
def server_json(request, team, server_name):
    range_name = request.GET.get("range", "1d")
    if range_name not in RANGES:
        return JsonResponse({"detail": f"range: one of {', '.join(RANGES)}"}, status=400)
    try:
        return JsonResponse(server_document(team.id, server_name, range_name))
    except UnknownServer:
        return JsonResponse({"detail": f"No server '{server_name}' in this team"}, status=404)



@session_json
def explain_json(request, team, server_name):
    """What GET /predictions/servers/<name>/explain serves, for the session's team."""
    body, status = explaining.explanation_result(team.id, server_name)
    return JsonResponse(body, status=status)
