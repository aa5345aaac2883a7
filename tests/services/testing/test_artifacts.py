"""The artifact store, driven through the engine: retention, and an attempt's files going with
it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from paddock.domain.artifact import ArtifactKind
from paddock.domain.entities import AgentSpec
from paddock.services.engine import Engine
from paddock.store.tables.artifacts import ArtifactRow
from paddock.store.tables.base import utcnow
from tests.e2e.server import make_repo

pytestmark = pytest.mark.anyio


async def an_attempt(engine: Engine, tmp_path: Path) -> str:
    project = await engine.projects.register(str(make_repo(tmp_path / "repo")))
    task = await engine.tasks.create(project.id, title="Artifacts")
    attempt = await engine.attempts.start(task.id, agent=AgentSpec(command="true"))
    await engine.attempts.wait(attempt.id)
    return attempt.id


async def test_artifacts_past_their_retention_are_removed(engine: Engine, tmp_path: Path):
    attempt_id = await an_attempt(engine, tmp_path)
    old = await engine.artifacts.add(attempt_id, "old.txt", b"old", ArtifactKind.file)
    new = await engine.artifacts.add(attempt_id, "new.txt", b"new", ArtifactKind.file)
    assert engine.artifacts.path_of(old.id).read_bytes() == b"old"
    days = engine.settings.artifacts.retention_days
    aged = utcnow() - timedelta(days=days + 1)
    await engine.ctx.db.run(
        lambda s: s.execute(
            update(ArtifactRow).where(ArtifactRow.id == old.id).values(created_at=aged)
        )
    )

    assert await engine.artifacts.remove_expired() == 1
    assert [a.id for a in await engine.artifacts.list_for_attempt(attempt_id)] == [new.id]
    assert not engine.artifacts.path_of(old.id).exists()
    assert engine.artifacts.path_of(new.id).read_bytes() == b"new"


async def test_an_attempts_artifacts_go_with_it(engine: Engine, tmp_path: Path):
    attempt_id = await an_attempt(engine, tmp_path)
    kept = await engine.artifacts.add(attempt_id, "report.html", b"<p>", ArtifactKind.report)
    await engine.attempts.delete(attempt_id)
    assert not engine.artifacts.path_of(kept.id).exists()
    assert await engine.artifacts.list_for_attempt(attempt_id) == []
