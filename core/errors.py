"""Errors as clients see them: JSON bodies, never a traceback."""
import logging

from django.http import JsonResponse
from rest_framework import status
from rest_framework.exceptions import APIException, NotAuthenticated, AuthenticationFailed, Throttled
from rest_framework.response import Response
from rest_framework.views import exception_handler

from .metrics import count_redis_error
from .redis import redis_unavailable

log = logging.getLogger(__name__)

INVALID_KEY = "Invalid or missing API key"
REDIS_RETRY_AFTER = 5


class StorageUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    # One wording for every cause (down, busy, out of memory): the contract's 503 body.
    default_detail = "Storage unavailable: Redis is unreachable. Nothing was stored; retry shortly."
    default_code = "storage_unavailable"


class BadParameter(APIException):
    """A query parameter a view cannot use: 400 with {"detail": "<parameter>: <what is wrong>"}."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "bad_parameter"

    def __init__(self, name: str, problem: str):
        super().__init__(f"{name}: {problem}")


def storage_unavailable_response():
    return Response(
        {"detail": StorageUnavailable.default_detail},
        status=503,
        headers={"Retry-After": str(REDIS_RETRY_AFTER)},
    )


def api_exception_handler(exc, context):
    if redis_unavailable(exc):
        log.warning("Redis unavailable during %s: %s", context["request"].path, str(exc)[:80] or type(exc).__name__)
        count_redis_error("web")
        return storage_unavailable_response()
    if isinstance(exc, (NotAuthenticated, AuthenticationFailed)):
        return Response({"detail": INVALID_KEY}, status=401, headers={"WWW-Authenticate": "X-API-Key"})
    if isinstance(exc, Throttled):
        wait = max(1, int(exc.wait or 1))
        return Response(
            {"detail": f"Rate limit exceeded. Try again in {wait} seconds."},
            status=429,
            headers={"Retry-After": str(wait)},
        )
    response = exception_handler(exc, context)
    if response is None:  # an unexpected error: log it here, tell the client nothing internal
        log.exception("Unhandled error in %s", context["request"].path)
        return Response({"detail": "Internal server error"}, status=500)
    return response


def json_404(request, exception=None):
    return JsonResponse({"detail": "Not found"}, status=404)


def json_500(request):
    return JsonResponse({"detail": "Internal server error"}, status=500)
