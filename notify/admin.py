"""Admin: a team's webhooks on the team's page (feeds.admin.TeamAdmin.extra_inlines), and the
deliveries, failed ones first, where a staff member can see what went wrong and retry.

The secret is write-only: typed when the webhook is made or changed, never shown again (the
field is blank on every page; left blank, it keeps the current secret)."""
from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from feeds.admin import TeamAdmin

from .models import MIN_SECRET_LENGTH, TeamWebhook, WebhookDelivery


class WebhookForm(forms.ModelForm):
    secret = forms.CharField(
        required=False, strip=False, widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=f"At least {MIN_SECRET_LENGTH} characters, e.g. python -c 'import secrets; "
                  "print(secrets.token_urlsafe(32))'. Write-only: blank keeps the current one.")

    class Meta:
        model = TeamWebhook
        fields = ("url", "secret", "active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["secret"] = ""  # never sent to the browser, not even as an initial value

    def clean_secret(self):
        secret = self.cleaned_data["secret"]
        if not secret and self.instance.pk:
            return self.instance.secret
        if len(secret) < MIN_SECRET_LENGTH:
            raise forms.ValidationError(f"A secret has at least {MIN_SECRET_LENGTH} characters.")
        return secret


class WebhookInline(admin.TabularInline):
    model = TeamWebhook
    form = WebhookForm
    extra = 0
    fields = ("url", "secret", "active", "deliveries")
    readonly_fields = ("deliveries",)
    verbose_name_plural = "webhooks (signed alert transitions: README, Alerts to Alertmanager and webhooks)"

    @admin.display(description="deliveries")
    def deliveries(self, hook):
        if hook.pk is None:
            return "-"
        counts = {s: hook.deliveries.filter(status=s).count() for s in (WebhookDelivery.FAILED, WebhookDelivery.PENDING)}
        url = reverse("admin:notify_webhookdelivery_changelist") + f"?webhook__id__exact={hook.pk}"
        return format_html('<a href="{}">{} failed, {} pending</a>', url, counts["failed"], counts["pending"])


TeamAdmin.extra_inlines = [*TeamAdmin.extra_inlines, WebhookInline]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "team", "status", "events", "attempts", "last_error", "created", "next_attempt", "finished")
    list_filter = ("status", "webhook__team")
    list_select_related = ("webhook__team",)
    ordering = ("-id",)
    fields = ("webhook", "batch_id", "status", "events", "attempts", "last_error", "created", "next_attempt",
              "finished", "body")
    readonly_fields = fields
    actions = ["retry"]

    @admin.display(description="team", ordering="webhook__team__slug")
    def team(self, delivery):
        return delivery.webhook.team.slug

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Retry the selected deliveries now (with fresh attempts)")
    def retry(self, request, queryset):
        changed = queryset.exclude(status=WebhookDelivery.DELIVERED).update(
            status=WebhookDelivery.PENDING, attempts=0, next_attempt=timezone.now(), finished=None)
        self.message_user(request, f"{changed} deliveries will be tried at the next notifier pass.", messages.SUCCESS)
