"""The one way notify/ calls out: a POST with short timeouts, no redirects (a redirect could
point a staff-set URL anywhere), http(s) only, the response body never read. Errors are
described without the URL, which may carry a token."""
import requests
from django.conf import settings
from django.core.exceptions import ValidationError

from .models import check_webhook_url


def post(url: str, body: bytes, headers: dict) -> str | None:
    """None when the endpoint answered 2xx; otherwise what went wrong, e.g. "HTTP 500", "ReadTimeout"."""
    try:
        check_webhook_url(url)
    except ValidationError:
        return "refused: not an http:// or https:// URL"
    timeout = settings.ARGUS_NOTIFY_TIMEOUT
    try:
        with requests.post(url, data=body, headers=headers, timeout=(timeout, timeout),
                           allow_redirects=False, stream=True) as response:
            if 200 <= response.status_code < 300:
                return None
            return f"HTTP {response.status_code}"
    except requests.RequestException as exc:
        return type(exc).__name__
