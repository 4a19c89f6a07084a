"""A throwaway installation for the benchmarks that need one: a private Redis on a free port and
an empty database of its own, both gone when the block ends. Call before anything imports Django
models (it runs django.setup())."""
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def throwaway_installation():
    """Yields the database connection of a fresh test database, with REDIS_URL at a private Redis."""
    import django

    from core.local_redis import free_port, start_redis_server

    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        redis_process = start_redis_server(port, Path(tmp) / "redis")
        os.environ["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
        django.setup()
        from django.db import connection

        connection.creation.create_test_db(verbosity=0, autoclobber=True)
        try:
            yield connection
        finally:
            connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)
            redis_process.terminate()
            redis_process.wait(10)
