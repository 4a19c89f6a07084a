from django.core.exceptions import ValidationError
from django.db import models

from feeds.models import Team

MIN_SECRET_LENGTH = 24


def check_webhook_url(url: str):
    """Webhook URLs are set by staff only, yet only http(s) is ever called: never file:, ftp: or
    anything else a URL library might open."""
    if not url.lower().startswith(("http://", "https://")):
        raise ValidationError("Only http:// and https:// URLs can receive webhooks.")


class TeamWebhook(models.Model):
    """An endpoint that receives the team's alert transitions, signed with `secret` (HMAC-SHA256,
    README "Alerts to Alertmanager and webhooks"). The secret is write-only in admin and never
    logged. Deleted with its team."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=500, validators=[check_webhook_url],
                          help_text="http:// or https:// endpoint; it gets a POST per batch of events.")
    secret = models.CharField(max_length=200, help_text="Signs every delivery (X-Argus-Signature).")
    active = models.BooleanField(default=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "webhook"

    def __str__(self):
        return f"{self.team.slug}: {self.url}"


class WebhookDelivery(models.Model):
    """One POST of a batch of the team's events to one webhook, with its retries. The body is
    kept as sent (signed afresh at each attempt, with that attempt's timestamp). Delivered and
    failed rows are deleted after ARGUS_WEBHOOK_KEEP_DAYS."""

    PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"

    webhook = models.ForeignKey(TeamWebhook, on_delete=models.CASCADE, related_name="deliveries")
    batch_id = models.CharField(max_length=64, help_text="Identifies the events it carries (X-Argus-Delivery).")
    body = models.TextField()
    events = models.PositiveIntegerField()
    status = models.CharField(max_length=16, default=PENDING,
                              choices=[(s, s) for s in (PENDING, DELIVERED, FAILED)])
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt = models.DateTimeField(help_text="When a pending delivery is tried next.")
    last_error = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, help_text="When it was delivered or given up.")

    class Meta:
        verbose_name_plural = "webhook deliveries"
        constraints = [  # a redone drain of the same events makes no second delivery
            models.UniqueConstraint(fields=["webhook", "batch_id"], name="notify_delivery_once"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt"], name="notify_delivery_due"),
            models.Index(fields=["created"], name="notify_delivery_created"),
        ]

    def __str__(self):
        return f"{self.webhook} #{self.pk} {self.status}"
