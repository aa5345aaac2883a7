"""A running Engine on each database (SQLite and PostgreSQL), for service tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from paddock.config import Settings
from paddock.services.engine import Engine
from paddock.store.db import Database


@pytest.fixture
def settings(tmp_path: Path, database: Database) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", database_url=database.url, demo=False, stop_grace_seconds=2
    )


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[Engine]:
    engine = Engine(settings)
    await engine.start()
    try:
        yield engine
    finally:
        await engine.close()
