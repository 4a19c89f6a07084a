"""Team webhooks: a drained batch of transitions becomes one delivery per active webhook of the
team (more when it is large: at most MAX_EVENTS events and MAX_BODY_BYTES a body), tried at once
and then with exponential backoff until ARGUS_WEBHOOK_MAX_ATTEMPTS, then recorded as failed
(admin: Notify > Webhook deliveries).

A team's events only ever go to that team's webhooks: deliveries are made from the team's own
outbox, for `team.webhooks`, and carry nothing of any other team."""
import hashlib
import json
import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from .events import webhook_event
from .http import post
from .models import TeamWebhook, WebhookDelivery
from .signing import DELIVERY_HEADER, signed_headers

log = logging.getLogger(__name__)

MAX_EVENTS = 100  # events in one delivery
MAX_BODY_BYTES = 256 * 1024  # a body never exceeds this (an event is under 1 KB)
MAX_BACKOFF = timedelta(hours=1)
DUE_BATCH = 200  # deliveries read per query while retrying


def batches(team_id, transitions: list) -> list:
    """[(batch id, [webhook events])], each within MAX_EVENTS and MAX_BODY_BYTES."""
    out, current, size = [], [], 0
    for t in transitions:
        event = webhook_event(team_id, t)
        event_size = len(json.dumps(event)) + 1
        if current and (len(current) == MAX_EVENTS or size + event_size > MAX_BODY_BYTES - 1024):
            out.append(current)
            current, size = [], 0
        current.append(event)
        size += event_size
    if current:
        out.append(current)
    return [(hashlib.sha256("\n".join(e["id"] for e in events).encode()).hexdigest()[:32], events)
            for events in out]


def body(team_slug: str, batch_id: str, events: list) -> str:
    return json.dumps({"version": 1, "delivery": batch_id, "team": team_slug, "events": events},
                      separators=(",", ":"))


def queue_deliveries(team, transitions: list, now: datetime) -> int:
    """Records a pending delivery per active webhook and batch (once: a redone drain of the same
    transitions adds nothing). Over ARGUS_WEBHOOK_MAX_PENDING pending for a webhook (a dead
    endpoint), a new delivery is recorded as failed at once. Returns the deliveries made."""
    made = 0
    hooks = list(TeamWebhook.objects.filter(team=team, active=True))
    if not hooks:
        return 0
    parts = batches(team.id, transitions)
    for hook in hooks:
        pending = WebhookDelivery.objects.filter(webhook=hook, status=WebhookDelivery.PENDING).count()
        for batch_id, events in parts:
            full = pending >= settings.ARGUS_WEBHOOK_MAX_PENDING
            delivery = WebhookDelivery(
                webhook=hook, batch_id=batch_id, body=body(team.slug, batch_id, events), events=len(events),
                next_attempt=now, status=WebhookDelivery.FAILED if full else WebhookDelivery.PENDING,
                last_error="not sent: ARGUS_WEBHOOK_MAX_PENDING deliveries already pending" if full else "",
                finished=now if full else None)
            try:
                with transaction.atomic():
                    delivery.save()
            except IntegrityError:  # made by an earlier drain of the same transitions
                continue
            made += 1
            pending += not full
            if full:
                log.warning("team %s: webhook %s has %d deliveries pending; a delivery of %d events was not sent",
                            team.slug, hook.pk, pending, len(events))
    return made


def deliver_due(now_fn=None, team_id=None, budget_seconds: float = 30.0) -> dict:
    """Tries the pending deliveries that are due (oldest due first), within the time budget.
    A webhook that fails once in this pass is not tried again in it (a dead endpoint costs one
    timeout per pass, not one per delivery). Returns counts by outcome."""
    now_fn = now_fn or timezone.now
    started = time.monotonic()
    counts = {"delivered": 0, "retry": 0, "failed": 0}
    down = set()
    last_id = 0
    while time.monotonic() - started < budget_seconds:
        due = WebhookDelivery.objects.filter(status=WebhookDelivery.PENDING, next_attempt__lte=now_fn(), id__gt=last_id)
        if team_id is not None:
            due = due.filter(webhook__team_id=team_id)
        page = list(due.select_related("webhook", "webhook__team").order_by("id")[:DUE_BATCH])
        if not page:
            break
        for delivery in page:
            last_id = delivery.id
            if delivery.webhook_id in down or time.monotonic() - started >= budget_seconds:
                continue
            outcome = attempt(delivery, now_fn())
            if outcome is not None:
                counts[outcome] += 1
                if outcome != "delivered":
                    down.add(delivery.webhook_id)
    return counts


def attempt(delivery: WebhookDelivery, now: datetime) -> str | None:
    """One try of one delivery: "delivered", "retry", "failed", or None when another notifier
    took it first (claimed by moving its next attempt past this try's longest duration)."""
    claim = now + timedelta(seconds=2 * settings.ARGUS_NOTIFY_TIMEOUT + 5)
    # next_attempt too: a second notifier that read the same row before this claim moved it
    # matches nothing (attempts only changes once the POST is done)
    claimed = WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.PENDING, attempts=delivery.attempts,
                                             next_attempt=delivery.next_attempt).update(next_attempt=claim)
    if not claimed:
        return None
    hook = delivery.webhook
    if not hook.active:
        return finish(delivery, WebhookDelivery.FAILED, now, "webhook deactivated")
    raw = delivery.body.encode()
    error = post(hook.url, raw, {"Content-Type": "application/json", "User-Agent": f"Argus/{settings.VERSION}",
                                 DELIVERY_HEADER: delivery.batch_id, **signed_headers(hook.secret, raw)})
    delivery.attempts += 1
    if error is None:
        return finish(delivery, WebhookDelivery.DELIVERED, now, "")
    if delivery.attempts >= settings.ARGUS_WEBHOOK_MAX_ATTEMPTS:
        # the team and webhook by id, never the URL (it may carry a token) nor the secret
        log.warning("team %s: webhook %s delivery %s failed %d times (%s); given up", hook.team.slug, hook.pk,
                    delivery.pk, delivery.attempts, error)
        return finish(delivery, WebhookDelivery.FAILED, now, error)
    backoff = min(timedelta(seconds=settings.ARGUS_WEBHOOK_RETRY_SECONDS * 2 ** (delivery.attempts - 1)), MAX_BACKOFF)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(attempts=F("attempts") + 1, next_attempt=now + backoff,
                                                          last_error=error[:300])
    return "retry"


def finish(delivery, status, now, error) -> str:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=status, attempts=delivery.attempts, finished=now,
                                                          last_error=error[:300])
    return "delivered" if status == WebhookDelivery.DELIVERED else "failed"


def delete_old_deliveries(now: datetime) -> int:
    cutoff = now - timedelta(days=settings.ARGUS_WEBHOOK_KEEP_DAYS)
    deleted = 0
    while ids := list(WebhookDelivery.objects.filter(finished__lt=cutoff).values_list("id", flat=True)[:5000]):
        deleted += WebhookDelivery.objects.filter(id__in=ids).delete()[0]
    return deleted
