"""Fixtures for scale-out tests: a fresh PostgreSQL database migrated by the release command, a
private redis-server per test, and three webchat processes sharing both.

PostgreSQL comes from `postgres_server_url` (skips, or fails under CI=true, when unreachable);
Redis is a private `redis-server` on a free port, so a test may kill and restart it without
touching anyone else's Redis.
"""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import IN_CI
from tests.helpers import services
from tests.helpers.cluster import Cluster, RedisServer, redis_server_available, webchat_command


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.scaleout_failed = report.failed
    return report


def require_redis_server() -> None:
    if redis_server_available():
        return
    message = "redis-server is not installed: these tests start their own (apt-get install redis-server)"
    if IN_CI:
        pytest.fail(f"CI must not skip: {message}")
    pytest.skip(message)


@pytest.fixture
def pg_url(postgres_server_url, workdir):
    """A new, empty PostgreSQL database, migrated by the Procfile's release command."""
    url = services.create_postgres_database(postgres_server_url, f"webchat_s_{uuid.uuid4().hex[:12]}")
    try:
        result = webchat_command(["migrate"], {"DATABASE_URL": url}, workdir)
        assert result.returncode == 0, result.stdout + result.stderr
        yield url
    finally:
        services.drop_postgres_database(postgres_server_url, url)


@pytest.fixture
def redis_server(workdir, request):
    require_redis_server()
    server = RedisServer(workdir).start()
    yield server
    server.stop()
    if getattr(request.node, "scaleout_failed", False):
        print(f"--- redis-server :{server.port} ---\n{server.log()}")


@pytest.fixture
def cluster(pg_url, redis_server, workdir, request):
    """Three `python -m webchat serve` processes sharing one PostgreSQL database and one Redis."""
    yield from running_cluster(pg_url, redis_server, workdir, request)


def running_cluster(database_url: str, redis_server, workdir, request):
    """Three processes started for a fixture to yield, stopped after; their logs printed when the
    test failed."""
    processes = Cluster(3, workdir, database_url, redis_server.url)
    try:
        processes.start()
        yield processes
    finally:
        processes.stop()
        if getattr(request.node, "scaleout_failed", False):
            print(processes.logs())
