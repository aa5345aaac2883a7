"""The real server on PostgreSQL, end to end: register, task, attempt, live log, delete."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.e2e.server import ServerProcess, wait_for
from tests.e2e.test_attempt_flow import agent_process

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_database_url(pg_server_url: str) -> Iterator[str]:
    """A fresh, empty database on the throwaway server; dropped afterwards."""
    name = f"e2e_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield pg_server_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def test_attempt_flow_on_postgresql(tmp_path: Path, repo: Path, pg_database_url: str):
    data = tmp_path / "data"
    with ServerProcess(data, database_url=pg_database_url) as server:
        assert server.api("GET", "/api/health")["database"] == "postgresql"
        project = server.api("POST", "/api/projects", json={"path": str(repo)})
        task = server.api(
            "POST", f"/api/projects/{project['id']}/tasks", json={"title": "Change the app"}
        )
        attempt = server.api(
            "POST",
            f"/api/tasks/{task['id']}/attempts",
            json={
                "agent": {
                    "command": 'for i in $(seq 1 200); do echo "pg $i"; done; echo v2 > app.txt'
                }
            },
        )
        worktree = Path(attempt["worktree_path"])
        proc = agent_process(server, attempt["id"])
        events = list(server.sse(f"/api/processes/{proc['id']}/logs/stream"))
        logs = [data for _, event, data in events if event == "log"]
        assert events[-1][1] == "end"
        assert events[-1][2]["status"] == "succeeded"
        assert events[-1][2]["line_count"] == len(logs)
        assert [line["seq"] for line in logs] == list(range(1, len(logs) + 1))
        assert [line["text"] for line in logs if line["text"].startswith("pg ")] == [
            f"pg {i}" for i in range(1, 201)
        ]
        assert (worktree / "app.txt").read_text() == "v2\n"
        assert (repo / "app.txt").read_text() == "v1\n"
        wait_for(
            lambda: (
                server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "awaiting_review"
            )
        )
        found = server.api("GET", f"/api/processes/{proc['id']}/logs", params={"q": "pg 20"})
        assert [line["text"] for line in found["lines"]] == ["pg 20", "pg 200"]

        response = server.client.delete(
            f"/api/attempts/{attempt['id']}", params={"delete_branch": True}
        )
        assert response.status_code == 204
        assert not worktree.exists()
        branch = subprocess.run(
            ["git", "branch", "--list", attempt["branch"]],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert branch.strip() == ""
        assert server.api("GET", f"/api/tasks/{task['id']}/attempts") == []

    # The rows really are in PostgreSQL (and no SQLite file was made in the data dir).
    assert not (data / "paddock.db").exists()
    with psycopg.connect(pg_database_url) as conn:
        rows = conn.execute("SELECT name, repo_path FROM projects").fetchall()
        assert rows == [("repo", str(repo))]
        assert conn.execute("SELECT count(*) FROM attempts").fetchone() == (0,)
