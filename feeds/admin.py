from django.contrib import admin
from rest_framework_api_key.admin import APIKeyModelAdmin

from .models import Team, TeamAPIKey


class TeamAPIKeyInline(admin.TabularInline):
    model = TeamAPIKey
    fields = ("prefix", "name", "created", "expiry_date", "revoked")
    readonly_fields = ("prefix", "name", "created", "expiry_date", "revoked")
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False  # keys are created on their own page, which shows the raw key once


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "created", "rate_feed", "rate_read", "rate_admin", "max_servers",
                    "max_new_servers_per_hour")
    search_fields = ("slug", "name")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [TeamAPIKeyInline]


@admin.register(TeamAPIKey)
class TeamAPIKeyAdmin(APIKeyModelAdmin):
    list_display = (*APIKeyModelAdmin.list_display, "team")
    list_filter = ("team", "revoked", "created")
    search_fields = (*APIKeyModelAdmin.search_fields, "team__slug")
