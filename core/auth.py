"""X-API-Key authentication: every request's key resolves to exactly one team, or to 401.

The key model is settings.ARGUS_API_KEY_MODEL (feeds.TeamAPIKey): core serves every app and
imports none of them."""
from functools import lru_cache

from django.apps import apps
from django.conf import settings
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission

HEADER = "HTTP_X_API_KEY"
MAX_KEY_LENGTH = 200


def key_model():
    return apps.get_model(settings.ARGUS_API_KEY_MODEL)


@lru_cache(maxsize=1)
def _unknown_key_hash():
    # Checked when the prefix matches no key, so an unknown key costs the same hash-and-compare
    # as a known one with a wrong secret.
    return key_model().objects.key_generator.hash("unknown.unknown")


def find_team_key(raw: str):
    """The usable key `raw` names, or None. Lookup by the non-secret prefix, then a
    constant-time comparison of hashes; revoked and expired keys are not usable."""
    if not raw or len(raw) > MAX_KEY_LENGTH:
        return None
    model = key_model()
    prefix = raw.partition(".")[0]
    key = model.objects.select_related("team").filter(prefix=prefix).first()
    hashed = key.hashed_key if key else _unknown_key_hash()
    matches = model.objects.key_generator.verify(raw, hashed)
    if key is None or not matches or key.revoked or key.has_expired:
        return None
    return key


class APIKeyAuthentication(BaseAuthentication):
    """request.user becomes the key's team and request.auth the key."""

    def authenticate(self, request):
        raw = request.META.get(HEADER)
        if raw is None:
            return None  # anonymous; views that need a team answer 401 through HasTeamKey
        key = find_team_key(raw)
        if key is None:
            raise AuthenticationFailed()
        return key.team, key

    def authenticate_header(self, request):
        return "X-API-Key"


class HasTeamKey(BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, key_model())
