"""The store's foundations, on SQLite and on PostgreSQL: schema, migrations, pragmas, types."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import delete, func, inspect, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from paddock.store import db as db_module
from paddock.store.db import MIGRATIONS_DIR, Database
from paddock.store.tables import Base
from paddock.store.tables.projects import ProjectRow, StepRow
from paddock.store.tables.tasks import TaskRow

pytestmark = pytest.mark.timeout(120)


def _head_revision() -> str:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def _project(pid: str = "p" * 32, name: str = "demo", **kw: object) -> ProjectRow:
    return ProjectRow(id=pid, name=name, repo_path=f"/repos/{name}", default_branch="main", **kw)


def _table_names(db: Database) -> set[str]:
    return set(inspect(db.engine).get_table_names())


def test_migrations_create_every_table(database: Database) -> None:
    expected = set(Base.metadata.tables)
    assert expected, "no tables declared in paddock/store/tables/"
    assert expected <= _table_names(database)


def test_database_is_at_the_head_revision(database: Database) -> None:
    with database.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    assert current == _head_revision()


def test_head_revision_constant_names_the_newest_migration() -> None:
    # migrate() skips Alembic when the database is at HEAD_REVISION: a new migration that
    # forgot to move the constant would never run on existing databases.
    assert _head_revision() == db_module.HEAD_REVISION


def test_an_older_database_is_upgraded(database: Database) -> None:
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    assert db_module.current_revision(database.engine) == "older"
    with pytest.raises(CommandError, match="older"):  # Alembic ran: it does not know 'older'
        database.migrate()


def test_migrating_twice_is_harmless(database: Database) -> None:
    database.call(lambda s: s.add(_project()))
    before = _table_names(database)

    database.migrate()

    assert _table_names(database) == before
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
        assert MigrationContext.configure(conn).get_current_revision() == _head_revision()
    assert database.call(lambda s: s.scalar(select(func.count()).select_from(ProjectRow))) == 1


def test_migrations_match_the_models(database: Database) -> None:
    """Autogenerate finds nothing to do: no change to tables.py lacks its migration."""
    with database.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], f"tables.py and the migrations differ; add a migration:\n{diff}"


def test_foreign_keys_are_enforced(database: Database) -> None:
    task = TaskRow(id="t" * 32, project_id="missing", step_id="missing", title="x", position=1.0)
    with pytest.raises(IntegrityError):
        database.call(lambda s: s.add(task))
    assert database.call(lambda s: s.scalar(select(func.count()).select_from(TaskRow))) == 0


def test_deleting_a_project_cascades_to_its_steps_and_tasks(database: Database) -> None:
    def seed(s: Session) -> None:
        s.add(_project())
        s.flush()
        s.add(StepRow(id="s" * 32, project_id="p" * 32, name="Todo", position=0, color="gray"))
        s.flush()
        s.add(TaskRow(id="t" * 32, project_id="p" * 32, step_id="s" * 32, title="x", position=1))

    database.call(seed)
    with database.session() as s:
        s.execute(delete(ProjectRow))
    assert database.call(lambda s: s.scalar(select(func.count()).select_from(StepRow))) == 0
    assert database.call(lambda s: s.scalar(select(func.count()).select_from(TaskRow))) == 0


@pytest.mark.parametrize(
    "written",
    [
        datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=UTC),
        datetime(2024, 3, 1, 1, 59, 58, 123456, tzinfo=timezone(timedelta(hours=2))),
        datetime(2024, 3, 1, 0, 0, 0, tzinfo=UTC),
    ],
    ids=["utc", "plus2", "whole-second"],
)
def test_datetimes_round_trip_as_aware_utc(database: Database, written: datetime) -> None:
    database.call(lambda s: s.add(_project(created_at=written, updated_at=written)))

    # A fresh session reads from the database, not from an identity map.
    read = database.call(lambda s: s.scalars(select(ProjectRow.created_at)).one())

    assert read.tzinfo is not None
    assert read.utcoffset() == timedelta(0)
    assert read == written


def test_default_timestamps_are_aware_utc(database: Database) -> None:
    database.call(lambda s: s.add(_project()))
    created = database.call(lambda s: s.scalars(select(ProjectRow.created_at)).one())
    assert created.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=5)


@pytest.mark.anyio
async def test_run_executes_in_a_worker_thread_in_one_transaction(database: Database) -> None:
    await database.run(lambda s: s.add(_project()))
    names = await database.run(lambda s: list(s.scalars(select(ProjectRow.name))))
    assert names == ["demo"]

    def add_then_fail(s: Session) -> None:
        s.add(_project(pid="q" * 32, name="other"))
        s.flush()
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await database.run(add_then_fail)
    assert await database.run(lambda s: list(s.scalars(select(ProjectRow.name)))) == ["demo"]


def test_a_transaction_with_a_stale_snapshot_is_run_again(tmp_path: Path) -> None:
    """SQLite refuses at once a write of a transaction whose reads are older than another
    connection's commit (waiting cannot help): a preview's port reservation failed so, as
    "database is locked", while a build's unit tests wrote their log beside it."""
    database = Database(f"sqlite:///{tmp_path / 'paddock.db'}")
    database.migrate()
    database.call(lambda s: s.add(_project()))
    other = sqlite3.connect(tmp_path / "paddock.db", timeout=5)
    runs: list[int] = []

    def read_then_write(session: Session) -> str:
        runs.append(1)
        with session.begin_nested():  # a SAVEPOINT: the reads below open a snapshot
            name = session.scalar(select(ProjectRow.name))
            if len(runs) == 1:  # meanwhile another connection commits
                other.execute("UPDATE projects SET name = 'renamed'")
                other.commit()
            session.execute(update(ProjectRow).values(name=f"{name}-again"))
        return str(name)

    assert database.call(read_then_write) == "renamed"
    assert len(runs) == 2
    assert database.call(lambda s: s.scalar(select(ProjectRow.name))) == "renamed-again"
    other.close()
    database.dispose()


def test_sqlite_connections_get_the_pragmas(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'paddock.db'}"
    first = Database(url)
    first.migrate()
    first.dispose()

    fresh = Database(url)  # a new engine: its first connection is a fresh one
    try:
        with fresh.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar_one() > 0
    finally:
        fresh.dispose()


def test_a_new_database_is_migrated_in_a_child_process(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        assert db_module.current_revision(database.engine) is None
        database.migrate_in_child()
        assert db_module.current_revision(database.engine) == _head_revision()
        assert set(Base.metadata.tables) <= _table_names(database)
    finally:
        database.dispose()


def test_a_failed_child_migration_says_why(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'odd.db'}")
    try:
        database.migrate()
        with database.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = 'unknown'"))
        with pytest.raises(db_module.MigrationFailed, match="unknown"):
            database.migrate_in_child()
    finally:
        database.dispose()
