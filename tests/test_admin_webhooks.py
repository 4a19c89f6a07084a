"""A team's webhooks on its admin page (the secret write-only), and the deliveries' list where
failures show and can be retried."""
from django.utils import timezone

from notify.models import TeamWebhook, WebhookDelivery
from tests.test_admin import admin_client, team_form  # noqa: F401  (a fixture)

SECRET = "a-webhook-secret-of-32-characters"


def change(admin_client, team, **fields):
    return admin_client.post(f"/admin/feeds/team/{team.pk}/change/", team_form(team, **fields))


def new_hook(url="https://hooks.example.com/argus", secret=SECRET, active="on"):
    return {"webhooks-TOTAL_FORMS": "1", "webhooks-0-url": url, "webhooks-0-secret": secret,
            "webhooks-0-active": active}


def test_a_webhook_is_added_on_the_team_page_and_its_secret_never_shown(admin_client, team_a):
    response = change(admin_client, team_a.team, **new_hook())
    assert response.status_code == 302, response.content.decode()[:3000]
    hook = TeamWebhook.objects.get()
    assert (hook.team, hook.url, hook.secret, hook.active) == (team_a.team, "https://hooks.example.com/argus", SECRET, True)
    page = admin_client.get(f"/admin/feeds/team/{team_a.team.pk}/change/").content.decode()
    assert "hooks.example.com/argus" in page and SECRET not in page
    assert "0 failed, 0 pending" in page


def test_a_blank_secret_keeps_the_current_one(admin_client, team_a):
    hook = TeamWebhook.objects.create(team=team_a.team, url="https://hooks.example.com/a", secret=SECRET)
    form = {"webhooks-TOTAL_FORMS": "1", "webhooks-INITIAL_FORMS": "1", "webhooks-0-id": hook.pk,
            "webhooks-0-team": team_a.team.pk, "webhooks-0-url": "https://hooks.example.com/b", "webhooks-0-secret": ""}
    assert change(admin_client, team_a.team, **form).status_code == 302
    hook.refresh_from_db()
    assert (hook.url, hook.secret, hook.active) == ("https://hooks.example.com/b", SECRET, False)


def test_a_short_secret_and_a_non_http_url_are_refused(admin_client, team_a):
    for fields in (new_hook(secret="short"), new_hook(url="file:///etc/passwd"), new_hook(url="ftp://example.com/")):
        response = change(admin_client, team_a.team, **fields)
        assert response.status_code == 200  # the page again, with the error
    assert not TeamWebhook.objects.exists()


def test_failed_deliveries_are_listed_with_their_error_and_can_be_retried(admin_client, team_a):
    hook = TeamWebhook.objects.create(team=team_a.team, url="https://hooks.example.com/a", secret=SECRET)
    now = timezone.now()
    failed = WebhookDelivery.objects.create(webhook=hook, batch_id="b1", body="{}", events=1, status="failed",
                                            attempts=8, next_attempt=now, last_error="ReadTimeout", finished=now)
    page = admin_client.get("/admin/notify/webhookdelivery/?status__exact=failed").content.decode()
    assert "ReadTimeout" in page and "team-a" in page
    assert "1 failed, 0 pending" in admin_client.get(f"/admin/feeds/team/{team_a.team.pk}/change/").content.decode()
    response = admin_client.post("/admin/notify/webhookdelivery/", {"action": "retry", "_selected_action": [failed.pk]})
    assert response.status_code == 302
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.finished) == ("pending", 0, None)
