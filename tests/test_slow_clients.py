"""Slow and streaming clients against real gunicorn processes (loopback only): a slow client
costs a connection and, for a bounded time, one thread, never the whole worker; chunked
bodies are read. Every client here is bounded in time and bytes."""
import json
import socket
import threading
import time

import pytest
import requests

from tests.factories import make_batch


class Dribbler(threading.Thread):
    """A client sending `head` at once, then one byte of `tail` every `interval` seconds, until
    the server hangs up, `tail` runs out or stop() is called. Loopback only."""

    def __init__(self, base, head, tail=b"X" * 100, interval=0.1):
        super().__init__(daemon=True)
        host, port = base.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=5)
        self.head, self.tail, self.interval = head, tail, interval
        self.hung_up = threading.Event()
        self.stopped = threading.Event()
        self.reply = b""

    def run(self):
        try:
            self.sock.sendall(self.head)
            for byte in self.tail:
                if self.stopped.wait(self.interval):
                    return
                self.sock.sendall(bytes([byte]))
                self.sock.setblocking(False)
                try:
                    chunk = self.sock.recv(4096)
                    self.reply += chunk
                    if not chunk or self.reply.startswith(b"HTTP/"):
                        self.hung_up.set()  # closed, or answered before we finished
                        return
                except BlockingIOError:
                    pass
                finally:
                    self.sock.setblocking(True)
        except OSError:  # reset by the server
            self.hung_up.set()
        finally:
            self.sock.close()

    def stop(self):
        self.stopped.set()
        self.join(10)


HEADERS_HEAD = b"POST /feed/data HTTP/1.1\r\nHost: 127.0.0.1\r\n"


def test_two_slow_clients_do_not_stall_other_requests(live_stack):
    key = live_stack.create_key("victim")
    base = live_stack.start_web(workers=1, ARGUS_HEADER_TIMEOUT=60, ARGUS_BODY_TIMEOUT=60)
    body_head = HEADERS_HEAD + b"X-API-Key: %s\r\nContent-Length: 1000\r\n\r\n" % key.encode()
    slow = [Dribbler(base, HEADERS_HEAD, tail=b"X-Slow: " + b"a" * 200), Dribbler(base, body_head, tail=b"{" * 200)]
    for client in slow:
        client.start()
    try:
        time.sleep(0.5)  # both are connected and mid-request (not an assertion on speed)
        assert not any(c.hung_up.is_set() for c in slow)
        # A sync worker would answer these only after the slow clients finish (20 s): the
        # requests' own timeout would fail the test first.
        assert requests.get(base + "/health", timeout=10).status_code == 200
        fed = requests.post(base + "/feed/data", json={"records": make_batch(3)}, headers={"X-API-Key": key}, timeout=10)
        assert fed.status_code == 200
    finally:
        for client in slow:
            client.stop()


def test_a_client_too_slow_with_its_headers_is_disconnected(live_stack):
    base = live_stack.start_web(workers=1, ARGUS_HEADER_TIMEOUT=1)
    client = Dribbler(base, HEADERS_HEAD, tail=b"X-Slow: " + b"a" * 100)  # at most 10 s
    client.start()
    client.join(15)
    assert client.hung_up.is_set(), "the server kept reading headers past ARGUS_HEADER_TIMEOUT"
    assert requests.get(base + "/health", timeout=10).status_code == 200


def test_a_client_too_slow_with_its_body_gets_408_and_nothing_is_stored(live_stack, redis_client):
    key = live_stack.create_key("slowpoke")
    base = live_stack.start_web(workers=1, ARGUS_BODY_TIMEOUT=1)
    body = json.dumps({"records": make_batch(2)}).encode()
    head = HEADERS_HEAD + b"X-API-Key: " + key.encode() + b"\r\nContent-Type: application/json\r\n" \
        + b"Content-Length: %d\r\n\r\n" % len(body)
    client = Dribbler(base, head, tail=body[:100])  # at most 10 s
    client.start()
    client.join(15)
    assert client.hung_up.is_set()
    assert client.reply.startswith(b"HTTP/1.1 408")
    assert list(redis_client.scan_iter("*:w:*")) == []


def chunks(data, size=1000):
    for i in range(0, len(data), size):
        yield data[i:i + size]


def test_a_chunked_body_is_read_and_stored(live_stack):
    key = live_stack.create_key("streamer")
    base = live_stack.start_web(workers=1)
    body = json.dumps({"records": make_batch(45)}).encode()
    # requests sends a generator with Transfer-Encoding: chunked and no Content-Length
    response = requests.post(base + "/feed/data", data=chunks(body), timeout=30,
                             headers={"X-API-Key": key, "Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    assert (response.json()["records_received"], response.json()["rolling_window_size"]) == (45, 45)


def test_a_chunked_body_over_the_size_limit_gets_413(live_stack, redis_client):
    key = live_stack.create_key("streamer")
    base = live_stack.start_web(workers=1, ARGUS_MAX_BODY_BYTES=5000)
    body = json.dumps({"records": make_batch(45)}).encode()
    assert len(body) > 5000
    response = requests.post(base + "/feed/data", data=chunks(body), timeout=30,
                             headers={"X-API-Key": key, "Content-Type": "application/json"})
    assert response.status_code == 413
    assert "ARGUS_MAX_BODY_BYTES" in response.json()["message"]
    assert list(redis_client.scan_iter("*:w:*")) == []
