"""GET /api/projects/{id}/tasks through the real server: the exact JSON of a few known tasks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from paddock.store.db import Database
from paddock.store.tables.tasks import TaskRow
from tests.e2e.server import ServerProcess, make_repo


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("tasks-api") / "data") as srv:
        yield srv


def test_the_task_list_is_exactly_this_json(server: ServerProcess, tmp_path: Path):
    project = server.api("POST", "/api/projects", json={"path": str(make_repo(tmp_path / "r"))})
    pid = project["id"]
    todo, doing = (s["id"] for s in server.api("GET", f"/api/projects/{pid}/steps")[:2])
    # Known ids and timestamps, written with the store's own code into the server's database.
    db = Database(f"sqlite:///{server.data_dir / 'paddock.db'}")
    try:
        with db.session() as s:
            s.add_all(
                [
                    TaskRow(
                        id="1" * 32,
                        project_id=pid,
                        step_id=doing,
                        title='Say "hi" \\ é 😀',
                        description="two\nlines",
                        position=1024.0,
                        created_at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
                        updated_at=datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC),
                        # A pending proposal: SQLite's 1 is JSON's true.
                        proposed=True,
                        proposed_by="a" * 32,
                    ),
                    TaskRow(
                        id="2" * 32,
                        project_id=pid,
                        step_id=todo,
                        title="second",
                        description="",
                        position=0.30000000000000004,
                        created_at=datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=UTC),
                        updated_at=datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=UTC),
                    ),
                ]
            )
    finally:
        db.dispose()
    first = (
        f'{{"id":"{"2" * 32}","project_id":"{pid}","step_id":"{todo}","title":"second",'
        '"description":"","position":0.30000000000000004,'
        '"created_at":"2026-01-02T03:04:05.120000Z","updated_at":"2026-01-02T03:04:05.120000Z",'
        '"proposed":false,"proposed_by":null}'
    )
    second = (
        f'{{"id":"{"1" * 32}","project_id":"{pid}","step_id":"{doing}",'
        '"title":"Say \\"hi\\" \\\\ é 😀","description":"two\\nlines","position":1024.0,'
        '"created_at":"2026-01-02T03:04:05.678901Z","updated_at":"2026-01-02T03:04:06Z",'
        f'"proposed":true,"proposed_by":"{"a" * 32}"}}'
    )
    # Board order: by step id, then position.
    expected = [first, second] if todo < doing else [second, first]

    response = server.client.get(f"/api/projects/{pid}/tasks")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == ("[" + ",".join(expected) + "]").encode()

    only_doing = server.client.get(f"/api/projects/{pid}/tasks", params={"step_id": doing})
    assert only_doing.content == f"[{second}]".encode()
    assert json.loads(only_doing.content)[0]["title"] == 'Say "hi" \\ é 😀'


def test_an_unknown_project_has_no_task_list(server: ServerProcess):
    response = server.client.get(f"/api/projects/{'0' * 32}/tasks")
    assert response.status_code == 404
    assert response.json()["code"] == "project_not_found"
