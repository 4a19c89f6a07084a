"""create_team and create_api_key, as a provisioning script would use them."""
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from feeds.models import TeamAPIKey


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip().splitlines()


@pytest.mark.django_db
def test_create_api_key_prints_a_working_key_as_its_last_line(client):
    run("create_team", "platform")
    raw = run("create_api_key", "platform", "--name", "prometheus")[-1]
    key = TeamAPIKey.objects.get_from_key(raw)
    assert (key.team.slug, key.name, key.expiry_date) == ("platform", "prometheus", None)
    assert client.get("/status", HTTP_X_API_KEY=raw).json()["team"] == "platform"


@pytest.mark.django_db
def test_a_key_can_be_made_to_expire():
    run("create_team", "platform")
    raw = run("create_api_key", "platform", "--expires-in-days", "30")[-1]
    assert TeamAPIKey.objects.get_from_key(raw).expiry_date is not None


@pytest.mark.django_db
def test_a_team_is_not_created_twice_unless_asked():
    run("create_team", "platform")
    with pytest.raises(CommandError, match="already exists"):
        run("create_team", "platform")
    assert run("create_team", "platform", "--exist-ok")[-1] == "platform"


@pytest.mark.django_db
def test_a_key_for_a_missing_team_is_a_clear_error():
    with pytest.raises(CommandError, match="No team 'ghost'"):
        run("create_api_key", "ghost")


@pytest.mark.django_db
def test_replace_revokes_the_earlier_keys_of_that_name():
    run("create_team", "platform")
    first = run("create_api_key", "platform", "--name", "demo")[-1]
    other = run("create_api_key", "platform", "--name", "other")[-1]
    second = run("create_api_key", "platform", "--name", "demo", "--replace")[-1]
    assert not TeamAPIKey.objects.is_valid(first)
    assert TeamAPIKey.objects.is_valid(second) and TeamAPIKey.objects.is_valid(other)
