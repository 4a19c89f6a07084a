"""Real receivers for the notification tests: Debian's Prometheus Alertmanager started on a free
port, and a webhook endpoint (http.server on a thread in the test process) that checks each
request's signature the way the README tells a receiver to."""
import json
import subprocess
import threading
import time
from collections import namedtuple
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from core.local_redis import free_port
from notify.signing import verify

ALERTMANAGER = Path("/usr/bin/prometheus-alertmanager")
CONFIG = """route:
  receiver: nobody
receivers:
  - name: nobody
"""


class Alertmanager:
    """A real Alertmanager: own port, own storage, no clustering, a route to nowhere."""

    def __init__(self, tmp_path: Path):
        assert ALERTMANAGER.exists(), ("these tests need Prometheus Alertmanager: "
                                       "apt-get install -y prometheus-alertmanager (.ci/run does)")
        (tmp_path / "alertmanager.yml").write_text(CONFIG)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(tmp_path / "alertmanager.log", "w")
        self.process = subprocess.Popen(
            [str(ALERTMANAGER), f"--config.file={tmp_path / 'alertmanager.yml'}",
             f"--storage.path={tmp_path / 'alertmanager-data'}", f"--web.listen-address=127.0.0.1:{self.port}",
             "--cluster.listen-address="], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            assert self.process.poll() is None, (tmp_path / "alertmanager.log").read_text()
            try:
                if requests.get(self.url + "/-/ready", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "Alertmanager did not get ready in 30 s"
            time.sleep(0.1)

    def alerts(self, **labels) -> list:
        """GET /api/v2/alerts: the active alerts (resolved ones are not listed), those with these labels."""
        found = requests.get(self.url + "/api/v2/alerts", timeout=5).json()
        return [a for a in found if all(a["labels"].get(k) == v for k, v in labels.items())]

    def wait_for(self, predicate, timeout=60, **labels) -> list:
        deadline = time.monotonic() + timeout
        while True:
            alerts = self.alerts(**labels)
            if predicate(alerts):
                return alerts
            assert time.monotonic() < deadline, f"Alertmanager still has {alerts}"
            time.sleep(0.2)

    def stop(self):
        self.process.terminate()
        self.process.wait(10)
        self.log.close()


Request = namedtuple("Request", "headers body verified answered")


class WebhookReceiver:
    """An HTTP endpoint on a thread. mode: "ok" answers 204, "fail" 500, "hang" holds each request
    until released (or 60 s). Every request is kept with whether its signature verified."""

    def __init__(self, secret: str):
        self.secret = secret
        self.mode = "ok"
        self.requests = []  # Request: headers, body, whether its signature verified, what it was answered
        self.released = threading.Event()
        self.hung = 0  # requests held without an answer
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                mode = receiver.mode
                if mode == "hang":
                    receiver.hung += 1
                    receiver.released.wait(60)
                    return  # no answer at all: the client gives up on its own timeout
                receiver.requests.append(Request(dict(self.headers), body, verify(receiver.secret, self.headers, body),
                                                 mode))
                self.send_response(204 if mode == "ok" else 500)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/argus?token=not-for-logs"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def events(self) -> list:
        """Every event of the verified requests answered 2xx, in arrival order."""
        return [e for r in self.requests if r.verified and r.answered == "ok" for e in json.loads(r.body)["events"]]

    def stop(self):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
