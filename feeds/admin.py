"""Django admin: teams (with their usage and keys) and API keys, in one place.

The API key library registers its own model's admin ("API Key Permissions > API keys"); keys
made there belong to no team and every request with one is a 401. It is unregistered here, so
that the only keys an administrator can create are a team's (its page, or the key list)."""
import rest_framework_api_key.admin  # noqa: F401  registers the library's APIKey admin, undone below
from django.conf import settings
from django.contrib import admin
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.html import format_html
from rest_framework_api_key.models import APIKey

from .admin_display import UNAVAILABLE, moment
from .admin_keys import NewKeyFormSet, NewTeamKeyInline, TeamKeysInline, save_new_keys
from .models import Team
from .team_usage import team_usage

admin.site.unregister(APIKey)  # imported above: registered by now, whatever order admin modules load in


class TeamUsageColumns:
    """The team's GET /status fields (feeds.team_usage), read once per team and page (the row's
    columns share the same Team instance)."""

    @staticmethod
    def _usage(team):
        if not hasattr(team, "usage"):
            team.usage = team_usage(team)
        return team.usage

    @admin.display(description="servers tracked")
    def servers_tracked(self, team):
        usage = self._usage(team)
        return UNAVAILABLE if usage is None else f"{usage['servers_tracked']:,}"

    @admin.display(description="last batch")
    def last_batch(self, team):
        usage = self._usage(team)
        return UNAVAILABLE if usage is None else moment(usage["last_batch_at"])

    @admin.display(description="warm-up")
    def warm_up(self, team):
        usage = self._usage(team)
        if usage is None:
            return UNAVAILABLE
        if usage["warmup_complete"]:
            return f"complete ({usage['rolling_window_size']:,} points held)"
        return f"warming up ({usage['rolling_window_size']:,} of {settings.ARGUS_WARMUP_RECORDS:,} points)"

    @admin.display(description="last prediction")
    def last_prediction(self, team):
        usage = self._usage(team)
        if usage is None:
            return UNAVAILABLE
        when = moment(usage.get("last_prediction"), empty="none yet")
        # stale: batches wait that no prediction covers (no worker, failing runs); see /status
        return format_html("{} <strong>(stale)</strong>", when) if usage.get("predictions_stale") else when

    @admin.display(description="points stored")
    def points_stored(self, team):
        usage = self._usage(team)
        if usage is None or "history_points_stored" not in usage:
            return UNAVAILABLE
        pending = usage.get("history_pending_points") or 0
        waiting = f" (+{pending:,} waiting for the archiver)" if pending else ""
        return f"{usage['history_points_stored']:,}{waiting}"


@admin.register(Team)
class TeamAdmin(TeamUsageColumns, admin.ModelAdmin):
    list_display = ("slug", "name", "active_keys", "servers_tracked", "last_batch", "warm_up", "last_prediction",
                    "points_stored")
    search_fields = ("slug", "name")
    prepopulated_fields = {"slug": ("name",)}
    usage_fields = ("servers_tracked", "last_batch", "warm_up", "last_prediction", "points_stored")
    readonly_fields = usage_fields

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ("slug", "name")}),
            ("Limits (blank: the server default)", {"fields": ("rate_feed", "rate_read", "rate_admin", "max_servers",
                                                               "max_new_servers_per_hour")}),
        ]
        if obj is not None:
            fieldsets.append(("Usage (as GET /status answers the team's keys)", {"fields": self.usage_fields}))
        return fieldsets

    # Inlines other apps add to a team's page (the dashboard's members), without feeds importing them
    extra_inlines: list = []

    def get_inlines(self, request, obj):
        keys = [NewTeamKeyInline] if obj is None else [TeamKeysInline, NewTeamKeyInline]
        return keys + list(self.extra_inlines)

    def get_queryset(self, request):
        now = timezone.now()
        usable = Q(api_keys__revoked=False) & (Q(api_keys__expiry_date__isnull=True) | Q(api_keys__expiry_date__gt=now))
        return super().get_queryset(request).annotate(usable_keys=Count("api_keys", filter=usable))

    @admin.display(description="active keys", ordering="usable_keys")
    def active_keys(self, team):
        return team.usable_keys

    def save_formset(self, request, form, formset, change):
        if isinstance(formset, NewKeyFormSet):
            save_new_keys(request, formset)
        else:
            super().save_formset(request, form, formset, change)
