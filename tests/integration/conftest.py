"""Integration tests run on the production shape: see tests/support/stack.py (the `stack` and `live`
fixtures come from tests/conftest.py)."""

import os

import pytest

from tests.support.servers import PostgresServer, RedisServer
from tests.support.stack import Stack, running, use_stack


@pytest.fixture(scope="session")
def postgres_stack(tmp_path_factory):
    """The production shape on PostgreSQL (its own Redis, so its worker takes only its own tasks)."""
    tmp = tmp_path_factory.mktemp("pg-stack")
    postgres = PostgresServer(tmp).start()
    name = f"textline_stack_{os.getpid()}"  # unique per process: two checkouts may test at once
    url = postgres.create_database(name)
    redis_server = RedisServer(tmp).start()
    with running(Stack(tmp, redis_server.url, url), redis_server) as s:
        yield s
    postgres.drop_database(name)
    postgres.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request):
    """`live` on each database: what a webhook writes must hold on SQLite and on PostgreSQL alike."""
    s = request.getfixturevalue("stack" if request.param == "sqlite" else "postgres_stack")
    yield from use_stack(s, request)
