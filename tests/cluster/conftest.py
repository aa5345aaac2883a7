"""A team's Paddock on one machine for the tests: PostgreSQL (the suite's), a Redis of the
test's own, and control-plane servers with data dirs of their own (docs/scale-out.md)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.cluster import Cluster
from tests.pg import PgServer
from tests.redis_server import RedisServer


@pytest.fixture
def cluster(tmp_path: Path, pg_server: PgServer) -> Iterator[Cluster]:
    redis = RedisServer(tmp_path / "redis").start()
    env = {"PADDOCK_CLUSTER_REDIS_URL": redis.url, "PADDOCK_SECRET_KEY": secrets.token_hex(32)}
    try:
        yield Cluster(env, pg_server.url_for(pg_server.create_database()), redis)
    finally:
        redis.stop()
