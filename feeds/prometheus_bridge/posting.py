"""POST /feed/data for the bridge: retried with backoff on 5xx, 429 and lost connections
(Retry-After honoured), never past the tick's deadline; other answers are final."""
import logging
import time
from email.utils import parsedate_to_datetime

import requests

log = logging.getLogger("argus.bridge")

MAX_BACKOFF = 60.0


def retry_wait(status, retry_after, attempt: int):
    """Seconds to wait before attempt `attempt + 1`, or None when retrying cannot help (a 4xx
    other than 429: the batch or the key is wrong). status None: no answer (connection lost)."""
    if status is not None and status != 429 and status < 500:
        return None
    backoff = min(2.0 ** attempt, MAX_BACKOFF)
    if retry_after:
        try:
            return max(float(retry_after), 0.0)
        except ValueError:
            try:
                return max(parsedate_to_datetime(retry_after).timestamp() - time.time(), 0.0)
            except (TypeError, ValueError):
                return backoff
    return backoff


class Poster:
    def __init__(self, argus_url: str, key: str, timeout=30.0, session=None, sleep=time.sleep, clock=time.time):
        self.endpoint = argus_url.rstrip("/") + "/feed/data"
        self.key = key
        self.timeout = timeout
        self.session = session or requests.Session()
        self.sleep, self.clock = sleep, clock

    def post(self, records: list, deadline: float):
        """The answer's body once Argus took the batch (200), else None (logged). Retries until
        `deadline` (epoch seconds): a retry that could only start after it is not made."""
        attempt = 0
        while True:
            try:
                response = self.session.post(self.endpoint, json={"records": records},
                                             headers={"X-API-Key": self.key}, timeout=self.timeout)
            except requests.RequestException as exc:
                status, retry_after, why = None, None, f"no answer ({exc.__class__.__name__})"
            else:
                if response.status_code == 200:
                    return response.json()
                status, retry_after = response.status_code, response.headers.get("Retry-After")
                why = f"HTTP {status}: {response.text[:300]}"
            wait = retry_wait(status, retry_after, attempt)
            if wait is None:
                log.error("batch of %d records refused, not retried: %s", len(records), why)
                return None
            if self.clock() + wait > deadline:
                log.error("batch of %d records not posted before its tick ended: %s", len(records), why)
                return None
            log.warning("%s; retrying in %.1fs", why, wait)
            self.sleep(wait)
            attempt += 1
