"""What an administrator does to API keys (the admin's actions call these): revoke, rotate."""
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import TeamAPIKey


class NotRotatable(Exception):
    """A revoked or expired key: there is nothing to rotate (create a new key instead)."""


def revoke_keys(queryset) -> int:
    """Revokes every key of `queryset` not revoked yet (the next request with one is a 401);
    returns how many. Revoking cannot be undone."""
    return queryset.filter(revoked=False).update(revoked=True)


@transaction.atomic
def rotate_key(old: TeamAPIKey, now=None):
    """Creates the replacement of `old`: same team, name and expiry date, a new secret. `old`
    keeps working for ARGUS_KEY_ROTATION_GRACE_SECONDS more (its expiry date is brought forward
    to then, unless it expires sooner), so that feeders can move to the new key without a gap;
    with a grace of 0 it is revoked at once. Returns (new key, its raw value: show it once, the
    old key as now saved)."""
    old = TeamAPIKey.objects.select_for_update().get(pk=old.pk)  # two admins rotating it at once
    now = now or timezone.now()
    if old.revoked or (old.expiry_date is not None and old.expiry_date <= now):
        raise NotRotatable(f"{old.prefix} ({old.name}) is revoked or expired: create a new key instead.")
    new, raw = TeamAPIKey.objects.create_key(team=old.team, name=old.name, expiry_date=old.expiry_date)
    grace_ends = now + timedelta(seconds=settings.ARGUS_KEY_ROTATION_GRACE_SECONDS)
    if settings.ARGUS_KEY_ROTATION_GRACE_SECONDS == 0:
        old.revoked = True
    elif old.expiry_date is None or old.expiry_date > grace_ends:
        old.expiry_date = grace_ends
    old.save(update_fields=["revoked", "expiry_date"])
    return new, raw, old
