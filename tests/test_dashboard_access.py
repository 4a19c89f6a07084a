"""People and teams: session login at /login/, memberships, the team switcher, add_member, and
isolation (a user sees only their teams; staff see every team)."""
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dashboard.models import Membership
from tests.dashboard_helpers import PASSWORD, member


@pytest.fixture
def browser_client():
    from django.test import Client

    return Client(enforce_csrf_checks=True)


def login(client, username):
    assert client.login(username=username, password=PASSWORD)
    return client


def test_the_dashboard_needs_a_login(client, team_a):
    response = client.get("/dashboard/")
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=/dashboard/")
    assert client.get("/dashboard/api/fleet").status_code == 401
    assert client.get("/dashboard/servers/ppdb001").status_code == 302


def test_a_member_logs_in_with_the_standard_form_and_lands_on_the_fleet(browser_client, team_a):
    member("ana", team_a)
    page = browser_client.get("/login/")
    assert page.status_code == 200 and b'name="username"' in page.content and b'name="password"' in page.content
    token = page.cookies["csrftoken"].value
    response = browser_client.post("/login/", {"username": "ana", "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    fleet = browser_client.get("/dashboard/")
    assert fleet.status_code == 200 and b"Team-A" in fleet.content


def test_a_wrong_password_is_refused_and_a_login_without_csrf_token_too(browser_client, team_a):
    member("ana", team_a)
    token = browser_client.get("/login/").cookies["csrftoken"].value
    wrong = browser_client.post("/login/", {"username": "ana", "password": "nope", "csrfmiddlewaretoken": token})
    assert wrong.status_code == 200 and b"Wrong username or password" in wrong.content
    no_token = browser_client.post("/login/", {"username": "ana", "password": PASSWORD})
    assert no_token.status_code == 403


def test_logging_out_is_a_post_and_ends_the_session(client, team_a):
    member("ana", team_a)
    login(client, "ana")
    assert client.get("/logout/").status_code == 405  # a link (or an image) cannot log anyone out
    assert client.post("/logout/").status_code == 302
    assert client.get("/dashboard/api/fleet").status_code == 401


def test_a_user_sees_only_their_own_team(client, team_a, team_b):
    member("ana", team_a)
    login(client, "ana")
    body = client.get("/dashboard/api/fleet").json()
    assert body["team"] == "team-a"
    # picking a team one is not a member of changes nothing
    assert client.post("/dashboard/team", {"team": "team-b"}).status_code == 404
    assert client.get("/dashboard/api/fleet").json()["team"] == "team-a"


def test_a_member_of_several_teams_switches_between_them(client, team_a, team_b):
    member("ana", team_a, team_b)
    login(client, "ana")
    page = client.get("/dashboard/").content.decode()
    assert 'id="team-switch"' in page and 'value="team-b"' in page
    assert client.get("/dashboard/api/fleet").json()["team"] == "team-a"
    assert client.post("/dashboard/team", {"team": "team-b"}).status_code == 302
    assert client.get("/dashboard/api/fleet").json()["team"] == "team-b"


def test_a_removed_membership_takes_effect_on_the_next_request(client, team_a, team_b):
    user = member("ana", team_a, team_b)
    login(client, "ana")
    client.post("/dashboard/team", {"team": "team-b"})
    Membership.objects.filter(user=user, team=team_b.team).delete()
    assert client.get("/dashboard/api/fleet").json()["team"] == "team-a"


def test_a_user_without_a_team_sees_nothing(client, team_a):
    member("nobody")
    login(client, "nobody")
    assert client.get("/dashboard/").status_code == 404
    assert client.get("/dashboard/api/fleet").status_code == 404


def test_staff_may_see_every_team(client, team_a, team_b):
    member("boss", staff=True)
    login(client, "boss")
    assert client.post("/dashboard/team", {"team": "team-b"}).status_code == 302
    assert client.get("/dashboard/api/fleet").json()["team"] == "team-b"


def test_add_member_creates_the_user_and_adds_them(team_a, team_b, capsys):
    call_command("add_member", "team-a", "carla", "--password", "s3cret-pass-1")
    call_command("add_member", "team-b", "carla")  # an existing user joins a second team
    from django.contrib.auth import authenticate, get_user_model

    user = get_user_model().objects.get(username="carla")
    assert sorted(Membership.objects.filter(user=user).values_list("team__slug", flat=True)) == ["team-a", "team-b"]
    assert authenticate(username="carla", password="s3cret-pass-1") == user
    call_command("add_member", "team-a", "carla")  # twice is fine
    assert Membership.objects.filter(user=user).count() == 2
    assert "already in team 'team-a'" in capsys.readouterr().out


def test_add_member_without_a_password_leaves_a_new_user_unable_to_log_in(team_a):
    call_command("add_member", "team-a", "dora")
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.get(username="dora").has_usable_password()


def test_add_member_refuses_an_unknown_team(db):
    with pytest.raises(CommandError, match="No team 'ghost'"):
        call_command("add_member", "ghost", "ana")


def test_memberships_are_managed_in_admin(admin_client, team_a):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("eve")
    response = admin_client.post("/admin/dashboard/membership/add/", {"user": user.pk, "team": team_a.team.pk})
    assert response.status_code == 302
    assert Membership.objects.filter(user=user, team=team_a.team).exists()
    assert b"eve" in admin_client.get("/admin/dashboard/membership/").content


def test_while_redis_is_down_the_pages_data_is_a_503_not_a_traceback(client, team_a, settings):
    from core.local_redis import free_port

    member("ana", team_a)
    login(client, "ana")
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    response = client.get("/dashboard/api/fleet")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.json() == {"detail": "Storage unavailable; retry shortly."}
