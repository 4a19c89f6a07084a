"""Shared test fixtures: a private real redis-server, two teams with keys, live stacks.

Tiers: a test is `slow` when it starts gunicorn, Celery or browser processes or trains a model
(it uses one of SLOW_FIXTURES, or is marked itself); `bin/test --fast` runs the rest in about a minute."""

import pytest
import redis

from argus_project.celery import app as celery_app
from core.local_redis import free_port, start_redis_server
from tests.factories import Tenant
from tests.live import LiveStack

SLOW_FIXTURES = {"live_stack", "stack", "tiny_model", "tiny_model_dir", "prometheus"}


def pytest_collection_modifyitems(items):
    for item in items:
        if SLOW_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """One private redis-server for the whole run; the developer's own Redis is never touched."""
    port = free_port()
    process = start_redis_server(port, tmp_path_factory.mktemp("redis"))
    url = f"redis://127.0.0.1:{port}/0"
    celery_app.conf.broker_url = url  # tasks the tests enqueue go there too
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture(autouse=True)
def _use_private_redis(redis_url, settings):
    settings.REDIS_URL = redis_url
    redis.Redis.from_url(redis_url).flushall()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # the production hasher is slow on purpose; tests log in often
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def redis_client(redis_url):
    return redis.Redis.from_url(redis_url)


@pytest.fixture
def team_a(db):
    return Tenant("team-a")


@pytest.fixture
def team_b(db):
    return Tenant("team-b")


@pytest.fixture
def client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def live_stack(tmp_path, redis_url):
    stack = LiveStack(tmp_path, redis_url)
    yield stack
    stack.stop()
