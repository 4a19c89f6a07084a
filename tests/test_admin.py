"""Teams and keys are managed in Django admin; a new key's raw value is shown exactly once.
A team's page and the team list show its usage as GET /status does (tests/test_admin_keys.py
covers the keys' usage and actions, tests/test_admin_browser.py the whole in Chromium)."""
import re
import time

import pytest
from django.contrib.auth.models import User

from feeds.models import Team, TeamAPIKey
from history.archiver import archive_all
from tests.factories import data_time, make_batch

# the empty formsets of a team's page: new keys, the dashboard's members, the webhooks (notify)
NO_NEW_KEYS = {"new_api_keys-TOTAL_FORMS": "0", "new_api_keys-INITIAL_FORMS": "0",
               "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
               "webhooks-TOTAL_FORMS": "0", "webhooks-INITIAL_FORMS": "0"}


@pytest.fixture
def admin_client(client, db):
    from django.test import Client

    User.objects.create_superuser("root", "root@example.com", "pw")
    browser = Client()
    browser.login(username="root", password="pw")
    return browser


def shown_key(response, name):
    """The raw key the admin's message shows for key `name`, or None."""
    found = re.search(rf"The API key for {name} is: ([\w.]+)\.", response.content.decode())
    return found and found.group(1)


def team_form(team, **changes):
    """The team change form as the page posts it, with `changes`."""
    fields = {"slug": team.slug, "name": team.name, "rate_feed": team.rate_feed, "rate_read": team.rate_read,
              "rate_admin": team.rate_admin, "max_servers": "", "max_new_servers_per_hour": "",
              "api_keys-TOTAL_FORMS": "0", "api_keys-INITIAL_FORMS": "0", **NO_NEW_KEYS}
    keys = list(team.api_keys.all())
    fields.update({"api_keys-TOTAL_FORMS": str(len(keys)), "api_keys-INITIAL_FORMS": str(len(keys))})
    for i, key in enumerate(keys):
        fields.update({f"api_keys-{i}-id": key.pk, f"api_keys-{i}-team": team.pk})
    fields.update(changes)
    return fields


def test_an_admin_creates_a_team_with_its_own_rate_limits(admin_client):
    response = admin_client.post("/admin/feeds/team/add/", {
        "slug": "payments", "name": "Payments", "rate_feed": "120/min", "rate_read": "", "rate_admin": "",
        **NO_NEW_KEYS,
    })
    assert response.status_code == 302
    assert Team.objects.get(slug="payments").rate_feed == "120/min"


def test_an_invalid_rate_is_refused_in_admin(admin_client):
    response = admin_client.post("/admin/feeds/team/add/", {
        "slug": "payments", "name": "Payments", "rate_feed": "lots", "rate_read": "", "rate_admin": "",
        **NO_NEW_KEYS,
    })
    assert response.status_code == 200
    assert not Team.objects.filter(slug="payments").exists()


def test_a_key_created_in_admin_is_shown_once_and_works(admin_client, team_a):
    response = admin_client.post("/admin/feeds/teamapikey/add/", {"name": "ci", "team": team_a.team.pk},
                                 follow=True)
    raw = shown_key(response, "ci")
    key = TeamAPIKey.objects.get(name="ci")
    assert key.team == team_a.team and raw.startswith(key.prefix + ".")
    assert TeamAPIKey.objects.get_from_key(raw) == key
    listing = admin_client.get("/admin/feeds/teamapikey/").content.decode()
    assert raw not in listing and key.prefix in listing
    assert raw not in admin_client.get(f"/admin/feeds/teamapikey/{key.pk}/change/").content.decode()


def test_the_team_page_lists_its_keys_by_prefix(admin_client, team_a):
    page = admin_client.get(f"/admin/feeds/team/{team_a.team.pk}/change/").content.decode()
    assert team_a.api_key.prefix in page
    assert team_a.key not in page


def test_the_api_key_librarys_own_admin_is_not_there(admin_client):
    # keys made there belonged to no team: shown once, looking valid, and refused with 401
    assert admin_client.get("/admin/rest_framework_api_key/apikey/").status_code == 404
    assert admin_client.get("/admin/rest_framework_api_key/apikey/add/").status_code == 404
    assert admin_client.get("/admin/rest_framework_api_key/").status_code == 404
    home = admin_client.get("/admin/").content.decode()
    assert "API Key Permissions" not in home and "rest_framework_api_key" not in home
    assert 'href="/admin/feeds/teamapikey/"' in home  # the team keys' list


def test_a_team_and_its_first_key_are_created_on_one_page(admin_client, client):
    response = admin_client.post("/admin/feeds/team/add/", {
        "slug": "payments", "name": "Payments", "rate_feed": "", "rate_read": "", "rate_admin": "",
        "new_api_keys-TOTAL_FORMS": "1", "new_api_keys-INITIAL_FORMS": "0",
        "new_api_keys-0-name": "prod feeder", "new_api_keys-0-expiry_date_0": "", "new_api_keys-0-expiry_date_1": "",
        "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
        "webhooks-TOTAL_FORMS": "0", "webhooks-INITIAL_FORMS": "0",
    }, follow=True)
    raw = shown_key(response, "prod feeder")
    key = TeamAPIKey.objects.get(name="prod feeder")
    assert key.team.slug == "payments" and raw.startswith(key.prefix + ".")
    assert client.get("/status", HTTP_X_API_KEY=raw).json()["team"] == "payments"
    assert shown_key(admin_client.get(f"/admin/feeds/team/{key.team.pk}/change/"), "prod feeder") is None


def test_a_key_added_on_the_team_page_belongs_to_that_team_only(admin_client, client, team_a, team_b):
    new_key = {"new_api_keys-TOTAL_FORMS": "1", "new_api_keys-0-name": "second"}
    forged = admin_client.post(f"/admin/feeds/team/{team_a.team.pk}/change/",
                               team_form(team_a.team, **new_key, **{"new_api_keys-0-team": team_b.team.pk}))
    assert forged.status_code == 200 and not TeamAPIKey.objects.filter(name="second").exists()
    response = admin_client.post(f"/admin/feeds/team/{team_a.team.pk}/change/", team_form(team_a.team, **new_key),
                                 follow=True)
    raw = shown_key(response, "second")
    assert TeamAPIKey.objects.get(name="second").team == team_a.team
    assert client.get("/status", HTTP_X_API_KEY=raw).json()["team"] == "team-a"
    assert TeamAPIKey.objects.filter(team=team_b.team).count() == 1


def test_an_existing_key_cannot_be_moved_to_another_team(admin_client, team_a, team_b):
    key = team_a.api_key
    admin_client.post(f"/admin/feeds/teamapikey/{key.pk}/change/", {
        "team": team_b.team.pk, "name": "renamed", "expiry_date_0": "", "expiry_date_1": ""})
    key.refresh_from_db()
    assert (key.name, key.team) == ("renamed", team_a.team)


def feed(client, tenant, servers=45, minutes_ago=0):
    response = client.post("/feed/data", {"records": make_batch(servers, data_time(minutes_ago=minutes_ago))},
                           format="json", **tenant.headers)
    assert response.status_code == 200


def table_row(page, link_text):
    """The cells' texts of the admin list's row whose link reads `link_text`."""
    [row] = [row for row in page.split("<tr")[1:] if f">{link_text}</a>" in row]
    cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip() for cell in cells]


def team_row(page, slug):
    """{column: text} of the team list's row for `slug`."""
    columns = ("checkbox", "slug", "name", "active keys", "servers tracked", "last batch", "warm-up",
               "last prediction", "points stored")
    return dict(zip(columns, table_row(page, slug), strict=True))


def test_the_team_list_shows_each_teams_servers_last_batch_and_warm_up(admin_client, client, team_a, team_b):
    feed(client, team_a, minutes_ago=5)
    feed(client, team_a)
    page = admin_client.get("/admin/feeds/team/").content.decode()
    assert team_row(page, "team-a") == {
        "checkbox": "", "slug": "team-a", "name": "Team-A", "active keys": "1", "servers tracked": "45",
        "last batch": "just now", "warm-up": "warming up (90 of 100 points)",
        "last prediction": "none yet", "points stored": "0 (+90 waiting for the archiver)"}  # no worker ran
    other = team_row(page, "team-b")
    assert (other["servers tracked"], other["last batch"], other["warm-up"], other["points stored"]) == (
        "0", "never", "warming up (0 of 100 points)", "0")


def test_warm_up_shows_complete_once_the_team_holds_enough_points(admin_client, client, team_a):
    for minutes_ago in (10, 5, 0):
        feed(client, team_a, minutes_ago=minutes_ago)
    page = admin_client.get(f"/admin/feeds/team/{team_a.team.pk}/change/").content.decode()
    assert "complete (135 points held)" in page


def test_points_stored_counts_what_the_archiver_put_in_the_database(admin_client, client, team_a, team_b):
    feed(client, team_a, servers=10)
    row = team_row(admin_client.get("/admin/feeds/team/").content.decode(), "team-a")
    assert row["points stored"] == "0 (+10 waiting for the archiver)"
    archive_all()
    assert team_row(admin_client.get("/admin/feeds/team/").content.decode(), "team-a")["points stored"] == "10"
    assert team_row(admin_client.get("/admin/feeds/team/").content.decode(), "team-b")["points stored"] == "0"


def test_stale_predictions_are_flagged(admin_client, client, team_a, settings):
    feed(client, team_a)
    assert team_row(admin_client.get("/admin/feeds/team/").content.decode(), "team-a")["last prediction"] == "none yet"
    settings.ARGUS_PREDICTIONS_STALE_SECONDS = 0  # the batch has waited "too long" for a run
    time.sleep(0.1)
    assert team_row(admin_client.get("/admin/feeds/team/").content.decode(), "team-a")["last prediction"] == \
        "none yet (stale)"


def test_the_admin_still_answers_when_redis_is_down(admin_client, team_a, settings):
    from core.local_redis import free_port

    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    teams = admin_client.get("/admin/feeds/team/")
    assert teams.status_code == 200 and "unavailable (Redis unreachable)" in teams.content.decode()
    assert "unavailable (Redis unreachable)" in admin_client.get(
        f"/admin/feeds/team/{team_a.team.pk}/change/").content.decode()
    keys = admin_client.get("/admin/feeds/teamapikey/")
    assert keys.status_code == 200 and "Redis is unreachable: key usage is not shown." in keys.content.decode()


def login(username, password):
    from django.test import Client

    browser = Client()
    response = browser.post("/admin/login/?next=/admin/", {"username": username, "password": password})
    return response.status_code == 302 and browser.get("/admin/").status_code == 200


def test_repeated_wrong_passwords_lock_the_username_out_even_for_the_right_one(db, settings):
    User.objects.create_superuser("root", "root@example.com", "right")
    User.objects.create_superuser("other", "other@example.com", "right")
    assert login("root", "right")
    for _ in range(settings.ARGUS_LOGIN_MAX_FAILURES):
        assert not login("root", "wrong")
    assert not login("root", "right")  # locked for ARGUS_LOGIN_LOCKOUT_SECONDS
    assert login("other", "right")  # other usernames are not


def test_a_successful_login_clears_the_failures(db, settings):
    User.objects.create_superuser("root", "root@example.com", "right")
    for _ in range(settings.ARGUS_LOGIN_MAX_FAILURES - 1):
        assert not login("root", "wrong")
    assert login("root", "right")
    for _ in range(settings.ARGUS_LOGIN_MAX_FAILURES - 1):
        assert not login("root", "wrong")
    assert login("root", "right")


def test_the_lockout_lasts_a_window_then_the_username_may_try_again(db, settings, redis_client):
    User.objects.create_superuser("root", "root@example.com", "right")
    for _ in range(settings.ARGUS_LOGIN_MAX_FAILURES):
        login("root", "wrong")
    [counter] = redis_client.keys("argus:login-failures:*")
    assert 0 < redis_client.ttl(counter) <= settings.ARGUS_LOGIN_LOCKOUT_SECONDS
    redis_client.delete(counter)  # the window ends (not waited for here)
    assert login("root", "right")


def test_the_team_page_edits_its_dashboard_members(admin_client, team_a, django_user_model):
    from dashboard.models import Membership

    user = django_user_model.objects.create_user("oncall", password="x" * 20)
    page = admin_client.get(f"/admin/feeds/team/{team_a.team.pk}/change/").content.decode()
    assert "members (who sees this team on the dashboard)" in page.lower()
    form = team_form(team_a.team, **{"memberships-TOTAL_FORMS": "1", "memberships-0-user": user.pk})
    response = admin_client.post(f"/admin/feeds/team/{team_a.team.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(Membership.objects.filter(team=team_a.team).values_list("user__username", flat=True)) == ["oncall"]
