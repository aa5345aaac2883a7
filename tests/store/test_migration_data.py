"""Upgrading keeps what the database holds. On SQLite, Alembic's batch mode rebuilds a table
to change it (copy, DROP, rename); with foreign keys on, the DROP of a parent table deletes
every child row through ON DELETE CASCADE: a schema change must not be a wipe."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from paddock.store import db as db_module
from paddock.store.db import MIGRATIONS_DIR, Database

pytestmark = pytest.mark.timeout(120)

NOW = "2026-01-01 00:00:00.000000"


def upgrade_to(database: Database, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with database.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def seed_first_schema(database: Database) -> None:
    """A project with a step and a task, as the first schema (0001) stores them."""
    with database.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO projects (id, name, repo_path, default_branch, setup_script,"
                " dev_script, cleanup_script, unit_test_script, e2e_test_script,"
                " openapi_script, copy_files, created_at, updated_at)"
                " VALUES ('p1', 'demo', '/repos/demo', 'main', '', '', '', '', '', '', '[]',"
                " :now, :now)"
            ),
            {"now": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO workflow_steps (id, project_id, name, position, color)"
                " VALUES ('s1', 'p1', 'To do', 0, 'gray')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO tasks (id, project_id, step_id, title, description, position,"
                " created_at, updated_at)"
                " VALUES ('t1', 'p1', 's1', 'Keep me', '', 1.0, :now, :now)"
            ),
            {"now": NOW},
        )


def count(database: Database, table: str) -> int:
    with database.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_upgrading_from_the_first_schema_keeps_every_row(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'paddock.db'}")
    try:
        upgrade_to(database, "0001")
        seed_first_schema(database)

        database.migrate()

        assert db_module.current_revision(database.engine) == db_module.HEAD_REVISION
        assert (count(database, "projects"), count(database, "workflow_steps")) == (1, 1)
        assert count(database, "tasks") == 1
        with database.engine.connect() as conn:
            foreign_keys = conn.execute(text("PRAGMA foreign_keys")).scalar_one()
        assert foreign_keys == 1, "foreign keys are on again for the server's connections"
    finally:
        database.engine.dispose()


def test_an_upgrade_that_breaks_a_reference_is_refused(tmp_path: Path) -> None:
    """With the keys off while tables are rebuilt, what they would have refused is checked
    before the upgrade commits: a dangling row stops it, and nothing of it is kept."""
    database = Database(f"sqlite:///{tmp_path / 'paddock.db'}")
    try:
        upgrade_to(database, "0001")
        seed_first_schema(database)
        with database.engine.connect() as conn:
            conn.execute(text("PRAGMA foreign_keys=OFF"))
            conn.execute(text("UPDATE tasks SET step_id = 'gone'"))
            conn.commit()

        with pytest.raises(db_module.MigrationFailed, match="tasks"):
            database.migrate()

        assert db_module.current_revision(database.engine) == "0001"
        assert count(database, "tasks") == 1
    finally:
        database.engine.dispose()
