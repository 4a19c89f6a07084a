"""How a webhook delivery is signed, and how a receiver checks it (the same code, so that the
README's recipe is the one the tests run).

The signed message is "<timestamp>.<body>" (the X-Argus-Timestamp header, a dot, the raw body
bytes); the signature is HMAC-SHA256 with the webhook's secret, sent as
`X-Argus-Signature: sha256=<hex>`. Covering the timestamp lets a receiver refuse replays: a
captured request is only good for TOLERANCE_SECONDS."""
import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Argus-Signature"
TIMESTAMP_HEADER = "X-Argus-Timestamp"
DELIVERY_HEADER = "X-Argus-Delivery"
TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict:
    timestamp = int(time.time() if now is None else now)
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature(secret, timestamp, body)}


def verify(secret: str, headers, body: bytes, now: float | None = None) -> bool:
    """What a receiver does: the signature matches the body and timestamp, and the timestamp is
    recent. `headers`: any mapping with case-insensitive get (http.server's, requests')."""
    raw_timestamp = headers.get(TIMESTAMP_HEADER) or ""
    if not raw_timestamp.isdigit():
        return False
    timestamp = int(raw_timestamp)
    if abs((time.time() if now is None else now) - timestamp) > TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(headers.get(SIGNATURE_HEADER) or "", signature(secret, timestamp, body))
