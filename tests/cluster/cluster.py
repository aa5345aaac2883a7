"""A team's Paddock on one machine, for the tests (docs/scale-out.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.e2e.server import ServerProcess
from tests.redis_server import RedisServer


@dataclass
class Cluster:
    """Control planes on one database and one Redis, each with a data dir of its own."""

    env: dict[str, str]
    database: str
    redis: RedisServer

    def server(self, data_dir: Path) -> ServerProcess:
        return ServerProcess(data_dir, env=self.env, database_url=self.database)
