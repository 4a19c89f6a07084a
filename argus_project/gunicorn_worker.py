"""gunicorn's threaded worker with read deadlines, so a slow client costs a connection and, for
a bounded time, one thread, never a whole worker.

gunicorn's `gthread` worker already keeps idle and kept-alive connections in a poller instead
of a thread, but once a request's first byte arrives a thread reads the rest with no time limit:
a client sending its headers or body at a byte a second holds that thread as long as it likes,
and a few such clients hold every thread. Here every read of a request must finish by a
deadline: the request line and headers within ARGUS_HEADER_TIMEOUT seconds of the first byte,
the body within ARGUS_BODY_TIMEOUT seconds of the headers. A client past its deadline is
disconnected (the feed view answers 408 if it was in the body)."""
import errno
import logging
import os
import socket
import time

from gunicorn.workers.gthread import ThreadWorker

log = logging.getLogger("argus.web")

HEADER_TIMEOUT = float(os.environ.get("ARGUS_HEADER_TIMEOUT", "10"))
BODY_TIMEOUT = float(os.environ.get("ARGUS_BODY_TIMEOUT", "30"))


class ClientTooSlow(ConnectionResetError):
    """A read missed its deadline. A ConnectionResetError (errno ECONNRESET), so that gunicorn
    drops the connection quietly, as it does for a client that hung up, and Django reports an
    unreadable body (UnreadablePostError) rather than a truncated one."""

    def __init__(self, phase):
        super().__init__(errno.ECONNRESET, f"client too slow: {phase} not received in time")


class DeadlineSocket:
    """A client socket whose reads fail once `deadline` (time.monotonic()) has passed; every
    other socket operation goes to the socket itself (fileno, send, close, setblocking...)."""

    def __init__(self, sock):
        self._sock = sock
        self.deadline = None
        self.phase = "request"

    def __getattr__(self, name):
        return getattr(self._sock, name)

    def recv(self, size, *flags):
        if self.deadline is None:
            return self._sock.recv(size, *flags)
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise ClientTooSlow(self.phase)
        self._sock.settimeout(remaining)  # bounds this one read by what is left of the deadline
        try:
            return self._sock.recv(size, *flags)
        except socket.timeout:
            raise ClientTooSlow(self.phase) from None
        finally:
            self._sock.settimeout(None)  # blocking again, as gunicorn expects


class DeadlineThreadWorker(ThreadWorker):
    def handle(self, conn):
        # Plain HTTP only: behind TLS termination (the deployment this ships for) gunicorn never
        # wraps the socket itself.
        if not self.cfg.is_ssl and not isinstance(conn.sock, DeadlineSocket):
            conn.sock = DeadlineSocket(conn.sock)
        if isinstance(conn.sock, DeadlineSocket):
            conn.sock.deadline, conn.sock.phase = time.monotonic() + HEADER_TIMEOUT, "headers"
        result = super().handle(conn)
        if isinstance(conn.sock, DeadlineSocket):
            conn.sock.deadline = None  # idle in the poller: gunicorn's keepalive limit applies
        return result

    def handle_request(self, req, conn):
        if isinstance(conn.sock, DeadlineSocket):
            conn.sock.deadline, conn.sock.phase = time.monotonic() + BODY_TIMEOUT, "body"
        return super().handle_request(req, conn)
