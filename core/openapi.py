"""OpenAPI pieces every app's views use: the X-API-Key scheme and the common error bodies
(documentation only)."""
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class APIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "core.auth.APIKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-API-Key",
                "description": "A team's API key, created in Django admin or with "
                               "`manage.py create_api_key`."}


class Detail(serializers.Serializer):
    detail = serializers.CharField()


class Health(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "unavailable"])
    redis_reachable = serializers.BooleanField()


# the 400 of an endpoint with query parameters (core.params): the detail names the parameter
BAD_PARAMETER = OpenApiResponse(Detail, description='A bad parameter, named: {"detail": "<parameter>: ..."}')

COMMON_ERRORS = {
    401: Detail,
    429: Detail,
    503: Detail,
}
