"""A database from before the attempt states (revision 0009), opened by the real server: its
`idle` attempts become `merged`, `stopped` or `awaiting_review`, its `killed` processes
`stopped` without the exit as an error, its default steps get their card flow roles, and its
projects the card flow (on) and preview auto-start (off)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from paddock.store.db import MIGRATIONS_DIR, make_engine
from tests.e2e.server import ServerProcess, make_repo

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def at_0009(url: str) -> sa.Engine:
    engine = make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0009")
    return engine


def insert(conn: sa.Connection, table: str, **values: Any) -> None:
    """A row as that revision's table holds it: the columns given, and a plain value in each
    other column that needs one."""
    columns = sa.Table(table, sa.MetaData(), autoload_with=conn).columns
    for column in columns:
        if column.name in values or column.nullable or column.server_default is not None:
            continue
        python = column.type.python_type if not isinstance(column.type, sa.JSON) else dict
        values[column.name] = {str: "", int: 0, float: 0.0, bool: False, datetime: NOW}.get(
            python, {}
        )
    for name, value in values.items():
        if isinstance(value, dict | list) and not isinstance(columns[name].type, sa.JSON):
            values[name] = json.dumps(value)
    conn.execute(sa.insert(sa.Table(table, sa.MetaData(), autoload_with=conn)), values)


def seed(conn: sa.Connection, repo: Path, worktrees: Path) -> None:
    insert(conn, "projects", id="p" * 32, name="old", repo_path=str(repo), default_branch="main")
    names = ["To do", "In progress", "In review", "Done", "Cancelled", "QA"]
    for position, name in enumerate(names):
        insert(
            conn,
            "workflow_steps",
            id=f"s{position}".ljust(32, "0"),
            project_id="p" * 32,
            name=name,
            position=position,
            color="#64748b",
            gate=[],
        )
    insert(conn, "tasks", id="t" * 32, project_id="p" * 32, step_id="s0".ljust(32, "0"), title="x")
    attempts = {
        "merged": dict(merge_commit="c" * 40, merged_at=NOW, merge_strategy="squash"),
        "stopped": dict(error="agent was stopped"),
        "review": dict(),
        "failed": dict(status="failed", error="agent failed: exited with code 1"),
    }
    for name, extra in attempts.items():
        worktree = worktrees / name
        worktree.mkdir(parents=True)  # there on disk: not `vanished` at start-up
        insert(
            conn,
            "attempts",
            id=name.ljust(32, "0"),
            task_id="t" * 32,
            project_id="p" * 32,
            branch=f"paddock/{name}",
            base_branch="main",
            worktree_path=str(worktree),
            agent={"profile": "script"},
            scripts={},
            sandbox={},
            created_at=NOW,
            updated_at=NOW,
            **{"status": "idle", **extra},
        )
    processes = {
        "stop": dict(error="exited with code 0"),
        "signal": dict(error="killed by signal 15"),
        "restart": dict(error="still running after a server restart: stopped"),
    }
    for name, extra in processes.items():
        insert(
            conn,
            "processes",
            id=name.ljust(32, "0"),
            attempt_id="review".ljust(32, "0"),
            reason="agent",
            command=["true"],
            status="killed",
            exit_code=0,
            created_at=NOW,
            **extra,
        )


def test_an_old_database_is_upgraded_to_readable_states(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    repo = make_repo(tmp_path / "repo")
    engine = at_0009(f"sqlite:///{data / 'paddock.db'}")
    with engine.begin() as conn:
        seed(conn, repo, data / "worktrees" / "old")
    engine.dispose()

    with ServerProcess(data) as server:
        status = {
            name: server.api("GET", f"/api/attempts/{name.ljust(32, '0')}")
            for name in ("merged", "stopped", "review", "failed")
        }
        assert {name: a["status"] for name, a in status.items()} == {
            "merged": "merged",
            "stopped": "stopped",
            "review": "awaiting_review",
            "failed": "failed",
        }
        assert status["merged"]["merged"]["commit"] == "c" * 40
        assert status["stopped"]["error"] is None  # a stop is no failure to explain
        assert status["failed"]["error"] == "agent failed: exited with code 1"

        procs = server.api("GET", f"/api/attempts/{'review'.ljust(32, '0')}/processes")
        assert {p["id"].rstrip("0"): (p["status"], p["error"]) for p in procs} == {
            "stop": ("stopped", None),
            "signal": ("stopped", None),
            "restart": ("stopped", "still running after a server restart: stopped"),
        }

        project = server.api("GET", f"/api/projects/{'p' * 32}")
        assert (project["card_flow"], project["auto_preview"]) == (True, False)
        roles = {s["name"]: s["role"] for s in server.api("GET", f"/api/projects/{'p' * 32}/steps")}
        assert roles == {
            "To do": None,
            "In progress": "in_progress",
            "In review": "review",
            "Done": "done",
            "Cancelled": None,
            "QA": None,
        }
