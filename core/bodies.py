"""Request bodies sent with `Transfer-Encoding: chunked` (no Content-Length).

Django sizes request.body by CONTENT_LENGTH and reads an empty body without it, so a valid batch
streamed in chunks would get "Malformed JSON". The server (gunicorn) decodes the chunks; this
WSGI wrapper reads the decoded body up front, at most ARGUS_MAX_BODY_BYTES + 1 bytes, and
hands Django a sized body. One byte over the limit is enough for the view's 413."""
import io
import json

from django.conf import settings

TIMEOUT_BODY = json.dumps({"detail": "Request body not received in time; send it faster or in smaller batches."}).encode()


def read_chunked_bodies(app):
    def wrapped(environ, start_response):
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH"):
            try:
                body = environ["wsgi.input"].read(settings.ARGUS_MAX_BODY_BYTES + 1)
            except OSError:  # the client hung up or missed the server's body deadline
                start_response("408 Request Timeout", [("Content-Type", "application/json"),
                                                       ("Connection", "close")])
                return [TIMEOUT_BODY]
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return app(environ, start_response)

    return wrapped
