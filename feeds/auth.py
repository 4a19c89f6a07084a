"""X-API-Key authentication: every request's key resolves to exactly one team, or to 401."""
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission

from .models import TeamAPIKey

HEADER = "HTTP_X_API_KEY"
MAX_KEY_LENGTH = 200
# Checked when the prefix matches no key, so an unknown key costs the same hash-and-compare
# as a known one with a wrong secret.
_UNKNOWN_KEY_HASH = TeamAPIKey.objects.key_generator.hash("unknown.unknown")


def find_team_key(raw: str):
    """The usable key `raw` names, or None. Lookup by the non-secret prefix, then a
    constant-time comparison of hashes; revoked and expired keys are not usable."""
    if not raw or len(raw) > MAX_KEY_LENGTH:
        return None
    prefix = raw.partition(".")[0]
    key = TeamAPIKey.objects.select_related("team").filter(prefix=prefix).first()
    hashed = key.hashed_key if key else _UNKNOWN_KEY_HASH
    matches = TeamAPIKey.objects.key_generator.verify(raw, hashed)
    if key is None or not matches or key.revoked or key.has_expired:
        return None
    return key


class APIKeyAuthentication(BaseAuthentication):
    """request.user becomes the key's Team and request.auth the key."""

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
        return isinstance(request.auth, TeamAPIKey)
