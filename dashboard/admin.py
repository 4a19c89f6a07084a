from django.contrib import admin

from .models import Membership


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "team", "created")
    list_filter = ("team",)
    search_fields = ("user__username", "team__slug", "team__name")
    autocomplete_fields = ("user",)
    list_select_related = ("user", "team")
