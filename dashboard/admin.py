from django.contrib import admin

from feeds.admin import TeamAdmin

from .models import Membership


class MembershipInline(admin.TabularInline):
    """The team's members, edited on the team's page."""
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)
    verbose_name = "member"
    verbose_name_plural = "members (who sees this team on the dashboard)"


TeamAdmin.extra_inlines = [*TeamAdmin.extra_inlines, MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "team", "created")
    list_filter = ("team",)
    search_fields = ("user__username", "team__slug", "team__name")
    autocomplete_fields = ("user",)
    list_select_related = ("user", "team")
