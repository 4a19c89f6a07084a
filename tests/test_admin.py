"""Teams and keys are managed in Django admin; a new key's raw value is shown exactly once."""
import re

import pytest
from django.contrib.auth.models import User

from feeds.models import Team, TeamAPIKey


@pytest.fixture
def admin_client(client, db):
    from django.test import Client

    User.objects.create_superuser("root", "root@example.com", "pw")
    browser = Client()
    browser.login(username="root", password="pw")
    return browser


def test_an_admin_creates_a_team_with_its_own_rate_limits(admin_client):
    response = admin_client.post("/admin/feeds/team/add/", {
        "slug": "payments", "name": "Payments", "rate_feed": "120/min", "rate_read": "", "rate_admin": "",
        "api_keys-TOTAL_FORMS": "0", "api_keys-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302
    assert Team.objects.get(slug="payments").rate_feed == "120/min"


def test_an_invalid_rate_is_refused_in_admin(admin_client):
    response = admin_client.post("/admin/feeds/team/add/", {
        "slug": "payments", "name": "Payments", "rate_feed": "lots", "rate_read": "", "rate_admin": "",
        "api_keys-TOTAL_FORMS": "0", "api_keys-INITIAL_FORMS": "0",
    })
    assert response.status_code == 200
    assert not Team.objects.filter(slug="payments").exists()


def test_a_key_created_in_admin_is_shown_once_and_works(admin_client, team_a):
    response = admin_client.post("/admin/feeds/teamapikey/add/", {"name": "ci", "team": team_a.team.pk},
                                 follow=True)
    page = response.content.decode()
    raw = re.search(r"The API key for ci is: ([\w.]+)\.", page).group(1)
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
