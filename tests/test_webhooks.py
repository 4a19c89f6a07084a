"""Team webhooks: signed opened/resolved (and level change) events reach a real HTTP endpoint,
only the team's own; failures are retried with backoff, then recorded as failed; a hanging
endpoint costs the run nothing. The notifier's work runs in the test process (notify.notifier,
notify.webhooks); tests/test_notify_live.py goes through the real Celery processes."""
import json
import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core import keys
from notify import outbox, webhooks
from notify.http import post
from notify.models import TeamWebhook, WebhookDelivery
from notify.notifier import notify_team
from notify.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature, verify
from tests.notify_helpers import WebhookReceiver
from tests.timeline_helpers import run

SECRET = "s3cret-for-tests-only-0123456789"


@pytest.fixture
def receiver(settings):
    settings.ARGUS_ALERTMANAGER_URL = ""
    settings.ARGUS_NOTIFY_TIMEOUT = 1
    endpoint = WebhookReceiver(SECRET)
    yield endpoint
    endpoint.stop()


def hook(team, receiver, secret=SECRET):
    return TeamWebhook.objects.create(team=team.team, url=receiver.url, secret=secret)


def notify(team):
    notify_team(team.team.id)
    return webhooks.deliver_due(team_id=team.team.id)


def test_opened_and_resolved_events_arrive_signed(team_a, receiver):
    hook(team_a, receiver)
    for tick, level in enumerate(["critical", "healthy", "healthy"], start=1):
        run(team_a.team.id, tick, {"web01": level})
        notify(team_a)
    assert [r.verified for r in receiver.requests] == [True, True]
    opened, resolved = receiver.events()
    assert {k: opened[k] for k in ("event", "server_name", "metric", "level", "previous_level", "risk_score",
                                   "time_to_issue")} == {
        "event": "opened", "server_name": "web01", "metric": "cpu_pct", "level": "critical", "previous_level": None,
        "risk_score": 100, "time_to_issue": "now"}
    assert opened["message"] == "CPU saturation now: cpu_pct is 95.0, at or above 90"
    assert (resolved["event"], resolved["level"], resolved["previous_level"]) == ("resolved", "healthy", "critical")
    assert opened["id"] != resolved["id"] and opened["at"] < resolved["at"]
    headers, body = receiver.requests[0][:2]
    assert json.loads(body)["team"] == "team-a" and headers["Content-Type"] == "application/json"
    assert headers[SIGNATURE_HEADER] == signature(SECRET, int(headers[TIMESTAMP_HEADER]), body)


def test_level_changes_are_events_too(team_a, receiver):
    hook(team_a, receiver)
    for tick, level in enumerate(["degraded", "critical"], start=1):
        run(team_a.team.id, tick, {"web01": level})
    notify(team_a)  # both runs drained at once: one delivery, events in order
    assert [(e["event"], e["level"]) for e in receiver.events()] == [("opened", "degraded"), ("escalated", "critical")]


def test_a_receiver_refuses_a_changed_body_a_wrong_secret_and_a_replay(team_a, receiver):
    hook(team_a, receiver)
    run(team_a.team.id, 1, {"web01": "critical"})
    notify(team_a)
    headers, body, verified, _ = receiver.requests[0]
    assert verified
    assert not verify(SECRET, headers, body.replace(b"critical", b"healthy"))
    assert not verify("another-secret-of-enough-length", headers, body)
    assert not verify(SECRET, headers, body, now=int(headers[TIMESTAMP_HEADER]) + 301)  # replayed 5 minutes on


def test_a_team_gets_only_its_own_events(team_a, team_b, receiver):
    other = WebhookReceiver(SECRET)
    try:
        hook(team_a, receiver)
        hook(team_b, other)
        run(team_a.team.id, 1, {"web01": "critical"})
        run(team_b.team.id, 1, {"db01": "warning"})
        notify(team_a)
        notify(team_b)
        assert [(e["server_name"]) for e in receiver.events()] == ["web01"]
        assert [(e["server_name"]) for e in other.events()] == ["db01"]
        assert {json.loads(r.body)["team"] for r in other.requests} == {"team-b"}
    finally:
        other.stop()


def test_a_failing_endpoint_is_retried_with_backoff_then_recorded_as_failed(team_a, receiver, settings, caplog):
    settings.ARGUS_WEBHOOK_MAX_ATTEMPTS = 3
    settings.ARGUS_WEBHOOK_RETRY_SECONDS = 30
    hook(team_a, receiver)
    receiver.mode = "fail"
    run(team_a.team.id, 1, {"web01": "critical"})
    start = timezone.now()
    notify(team_a)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 1, "HTTP 500")
    assert timedelta(seconds=29) < delivery.next_attempt - start < timedelta(seconds=35)
    assert webhooks.deliver_due()["retry"] == 0  # not due yet
    webhooks.deliver_due(now_fn=lambda: start + timedelta(seconds=31))
    delivery.refresh_from_db()
    assert delivery.attempts == 2 and timedelta(seconds=89) < delivery.next_attempt - start < timedelta(seconds=95)
    webhooks.deliver_due(now_fn=lambda: start + timedelta(seconds=95))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 3) and delivery.finished is not None
    assert len(receiver.requests) == 3
    assert SECRET not in caplog.text and "not-for-logs" not in caplog.text  # neither the secret nor the URL's token


def test_an_endpoint_back_up_gets_the_delivery_at_the_next_retry(team_a, receiver):
    hook(team_a, receiver)
    receiver.mode = "fail"
    run(team_a.team.id, 1, {"web01": "critical"})
    notify(team_a)
    receiver.mode = "ok"
    counts = webhooks.deliver_due(now_fn=lambda: timezone.now() + timedelta(minutes=1))
    assert counts == {"delivered": 1, "retry": 0, "failed": 0}
    assert [e["event"] for e in receiver.events()] == ["opened"]
    assert WebhookDelivery.objects.get().status == "delivered"


def test_a_hanging_endpoint_costs_the_run_nothing(team_a, receiver, redis_client):
    hook(team_a, receiver)
    receiver.mode = "hang"
    started = time.perf_counter()
    for tick, level in enumerate(["critical", "healthy", "healthy"], start=1):
        run(team_a.team.id, tick, {"web01": level})  # the run's part: one Redis round trip, no HTTP
    assert time.perf_counter() - started < 1.0
    assert redis_client.llen(keys.team(team_a.team.id).notify_outbox) == 2  # opened and resolved, waiting
    started = time.perf_counter()
    notify(team_a)  # the notifier waits on the endpoint, up to ARGUS_NOTIFY_TIMEOUT (1 s here)
    assert 0.9 < time.perf_counter() - started < 5
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_error) == ("pending", "ReadTimeout")


def test_a_redone_drain_makes_no_second_delivery(team_a, receiver, redis_client):
    hook(team_a, receiver)
    run(team_a.team.id, 1, {"web01": "critical"})
    key = keys.team(team_a.team.id).notify_outbox
    saved = redis_client.lrange(key, 0, -1)
    notify(team_a)
    redis_client.rpush(key, *saved)  # as if a notifier died after recording, before trimming the outbox
    notify(team_a)
    assert WebhookDelivery.objects.count() == 1 and len(receiver.requests) == 1


def test_an_inactive_webhook_gets_nothing(team_a, receiver):
    hook(team_a, receiver).__class__.objects.update(active=False)
    run(team_a.team.id, 1, {"web01": "critical"})
    notify(team_a)
    assert receiver.requests == [] and not WebhookDelivery.objects.exists()


def test_only_http_and_https_urls_are_accepted(team_a):
    for url in ("file:///etc/passwd", "ftp://example.com/x", "gopher://example.com/"):
        with pytest.raises(ValidationError):
            TeamWebhook(team=team_a.team, url=url, secret=SECRET).full_clean()
    assert post("file:///etc/passwd", b"{}", {}) == "refused: not an http:// or https:// URL"


def test_large_batches_are_split_into_bounded_deliveries(team_a, receiver):
    hook(team_a, receiver)
    run(team_a.team.id, 1, {f"web{i:03d}": "critical" for i in range(250)})
    notify(team_a)
    sizes = [len(json.loads(r.body)["events"]) for r in receiver.requests]
    assert sorted(sizes) == [50, 100, 100] and all(r.verified for r in receiver.requests)
    assert len({e["id"] for e in receiver.events()}) == 250


def test_a_dead_endpoints_backlog_is_bounded(team_a, receiver, settings):
    settings.ARGUS_WEBHOOK_MAX_PENDING = 2
    hook(team_a, receiver)
    receiver.mode = "fail"
    for tick in range(1, 5):
        run(team_a.team.id, tick, {f"web{tick}": "critical"}, known=[f"web{t}" for t in range(1, 5)])
        notify(team_a)
    statuses = list(WebhookDelivery.objects.order_by("id").values_list("status", flat=True))
    assert statuses == ["pending", "pending", "failed", "failed"]
    assert "ARGUS_WEBHOOK_MAX_PENDING" in WebhookDelivery.objects.filter(status="failed").first().last_error


def test_the_outbox_is_bounded_and_says_what_it_dropped(team_a, settings, redis_client, caplog):
    settings.ARGUS_NOTIFY_OUTBOX_MAX = 3
    run(team_a.team.id, 1, {f"web{i}": "critical" for i in range(5)})
    assert redis_client.llen(keys.team(team_a.team.id).notify_outbox) == 3
    assert "2 oldest transitions dropped" in caplog.text


def test_a_run_sends_one_notifier_task_while_one_waits(team_a, redis_client, settings):
    queue = f"{settings.ARGUS_REDIS_PREFIX}:celery:{outbox.NOTIFY_QUEUE}"
    for tick in (1, 2, 3):
        run(team_a.team.id, tick, {f"web{tick}": "critical"}, known=["web1", "web2", "web3"])
    assert redis_client.llen(queue) == 1
    outbox.task_started(team_a.team.id)  # the task took the team
    run(team_a.team.id, 4, {"web4": "critical"}, known=["web1", "web2", "web3", "web4"])
    assert redis_client.llen(queue) == 2


def test_old_deliveries_are_deleted(team_a, receiver, settings):
    settings.ARGUS_WEBHOOK_KEEP_DAYS = 7
    hook(team_a, receiver)
    run(team_a.team.id, 1, {"web01": "critical"})
    notify(team_a)
    finished = WebhookDelivery.objects.get().finished
    assert webhooks.delete_old_deliveries(finished + timedelta(days=6)) == 0
    assert webhooks.delete_old_deliveries(finished + timedelta(days=7, seconds=1)) == 1


def test_a_trim_while_the_notifier_works_never_removes_a_transition_it_did_not_take(team_a, settings):
    """The outbox overflows while a notifier holds a batch: the run's trim drops the oldest
    entries (some of the batch), and the notifier's removal then takes only what is left of its
    batch, not the newer transitions behind it."""
    from notify import outbox

    settings.ARGUS_NOTIFY_OUTBOX_MAX = 4
    team_id = team_a.team.id
    outbox.enqueue(team_id, [{"n": i} for i in range(4)])
    raws = outbox.peek(team_id, 3)  # the notifier takes 0, 1, 2
    outbox.enqueue(team_id, [{"n": 4}, {"n": 5}])  # a run meanwhile: 0 and 1 are trimmed away
    assert outbox.remove(team_id, raws) == 1  # only 2 was still there
    assert outbox.decode(outbox.peek(team_id, 10)) == [{"n": 3}, {"n": 4}, {"n": 5}]
