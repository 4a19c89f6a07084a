"""The admin of API keys: the key list (created, revoked and rotated there), and the keys on a
team's page (created there too). The raw value of a new key is shown once, in a message, and
never stored: only its hash is."""
from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db.models import Q
from django.forms.models import BaseInlineFormSet
from django.utils import timezone

from core.key_usage import NEVER

from .admin_display import UNAVAILABLE, moment
from .key_actions import NotRotatable, revoke_keys, rotate_key
from .key_usage import last_used_at, record_last_uses, usage_by_key
from .models import TeamAPIKey

UNUSED_DAYS = 30  # the "not used in 30 days" filter: a key a weekly or monthly job uses is in use


def announce_new_key(request, key, raw, more=""):
    # The library's wording, kept so that scripts scraping it keep working.
    messages.warning(request, f"The API key for {key.name} is: {raw}. Please store it somewhere safe: "
                              f"you will not be able to see it again.{more}")


def key_state(key, now=None) -> str:
    now = now or timezone.now()
    if key.revoked:
        return "revoked"
    if key.expiry_date is not None and key.expiry_date <= now:
        return "expired"
    return "active"


class KeyColumns:
    """Usage columns shared by the key list and a team's key inline. The list attaches every
    row's usage in one Redis round trip (KeyChangeList); elsewhere a key reads its own."""

    @staticmethod
    def _usage(key):
        if not hasattr(key, "usage"):
            found = usage_by_key([key])
            key.usage = None if found is None else found[key.pk]
        return key.usage

    @admin.display(description="state")
    def state(self, key):
        return key_state(key)

    @admin.display(description="last used", ordering="last_used")
    def last_used_display(self, key):
        usage = self._usage(key)
        if usage is not None and usage.last_used_ms is not None:
            return moment(last_used_at(usage))
        if usage is None and key.last_used is None:
            return UNAVAILABLE
        return moment(key.last_used)  # past Redis's 90 days, or Redis down: the copy in the database

    @admin.display(description="requests, last 24 h")
    def requests_24h(self, key):
        usage = self._usage(key)
        return UNAVAILABLE if usage is None else f"{usage.requests_24h:,}"


class KeyStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "active"), ("revoked", "revoked"), ("expired", "expired")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(Q(expiry_date__isnull=True) | Q(expiry_date__gt=now), revoked=False)
        if self.value() == "revoked":
            return queryset.filter(revoked=True)
        if self.value() == "expired":
            return queryset.filter(revoked=False, expiry_date__lte=now)
        return queryset


class KeyUseFilter(admin.SimpleListFilter):
    """On TeamAPIKey.last_used, which the key list brings up to date before it filters."""

    title = "last used"
    parameter_name = "used"

    def lookups(self, request, model_admin):
        return [("never", "never"), ("unused", f"not in the last {UNUSED_DAYS} days"),
                ("day", "in the last 24 hours")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "never":
            return queryset.filter(last_used__isnull=True)
        if self.value() == "unused":
            return queryset.filter(Q(last_used__isnull=True) | Q(last_used__lt=now - timedelta(days=UNUSED_DAYS)))
        if self.value() == "day":
            return queryset.filter(last_used__gte=now - timedelta(days=1))
        return queryset


class KeyChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        usage = getattr(request, "argus_key_usage", None)  # read by TeamAPIKeyAdmin.changelist_view
        for key in self.result_list:
            key.usage = None if usage is None else usage.get(key.pk, NEVER)  # NEVER: a key made since


@admin.register(TeamAPIKey)
class TeamAPIKeyAdmin(KeyColumns, admin.ModelAdmin):
    list_display = ("prefix", "name", "team", "state", "created", "expiry_date", "last_used_display", "requests_24h")
    list_filter = (KeyStateFilter, KeyUseFilter, "team")
    list_select_related = ("team",)
    search_fields = ("name", "prefix", "team__slug")
    actions = ["revoke_selected", "rotate_selected"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("team", "name", "expiry_date")
        return ("prefix", "team", "name", "state", "created", "expiry_date", "revoked", "last_used_display",
                "requests_24h")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # a key never changes team (its secret is that team's); a revoked key is final
        fixed = ("prefix", "team", "state", "created", "last_used_display", "requests_24h")
        return fixed + (("name", "expiry_date", "revoked") if obj.revoked else ())

    def get_changelist(self, request, **kwargs):
        return KeyChangeList

    def changelist_view(self, request, extra_context=None):
        # Bring every key's last use into the database first, so that the "last used" filter
        # and ordering see what Redis counted up to now.
        request.argus_key_usage = record_last_uses()
        if request.argus_key_usage is None:
            messages.warning(request, "Redis is unreachable: key usage is not shown.")
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        raw = TeamAPIKey.objects.assign_key(obj)
        obj.save()
        announce_new_key(request, obj, raw)

    @admin.action(description="Revoke selected API keys (cannot be undone)", permissions=["change"])
    def revoke_selected(self, request, queryset):
        revoked = revoke_keys(queryset)
        self.message_user(request, f"Revoked {revoked} API key{'s' if revoked != 1 else ''}; "
                                   f"requests with {'them' if revoked != 1 else 'it'} now get 401.")

    @admin.action(description="Rotate selected API keys (new key shown once; the old one works for the "
                              "grace period)", permissions=["add", "change"])
    def rotate_selected(self, request, queryset):
        for key in queryset:
            try:
                new, raw, old = rotate_key(key)
            except NotRotatable as exc:
                self.message_user(request, str(exc), messages.ERROR)
                continue
            until = ("is revoked now" if old.revoked else
                     f"keeps working until {old.expiry_date:%Y-%m-%d %H:%M} UTC (ARGUS_KEY_ROTATION_GRACE_SECONDS)")
            announce_new_key(request, new, raw, f" It replaces {old.prefix}, which {until}.")


class TeamKeysInline(KeyColumns, admin.TabularInline):
    """A team's keys, read-only (revoke or rotate them from the key list)."""

    model = TeamAPIKey
    fields = readonly_fields = ("prefix", "name", "state", "created", "expiry_date", "last_used_display",
                                "requests_24h")
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False  # NewTeamKeyInline adds them


class NewKeyFormSet(BaseInlineFormSet):
    @classmethod
    def get_default_prefix(cls):
        return "new_api_keys"  # TeamKeysInline, on the same relation, has the default one


class NewTeamKeyInline(admin.TabularInline):
    """Empty rows for new keys of the team; TeamAdmin.save_formset creates them and shows each
    raw key once."""

    model = TeamAPIKey
    formset = NewKeyFormSet
    fields = ("name", "expiry_date")
    extra = 0
    can_delete = False
    verbose_name = "new API key"
    verbose_name_plural = "new API keys (each is shown once, when the team is saved)"

    def get_queryset(self, request):
        return super().get_queryset(request).none()


def save_new_keys(request, formset):
    """Creates the keys of a NewTeamKeyInline formset and announces each raw value once."""
    for key in formset.save(commit=False):
        raw = TeamAPIKey.objects.assign_key(key)
        key.save()
        announce_new_key(request, key, raw)
