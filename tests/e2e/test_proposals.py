"""Proposed tasks and progress lines through the real server: accepting and dismissing a
proposal, the refusals of a pending one (its start, its move, accept/dismiss of an ordinary
task), and the fields the task, board and attempt JSON carry.

The attempt's own channel (MCP) is what proposes and reports; here its service's writes are
made in the server's database directly, by the store functions TaskService.propose and
AttemptService.report_progress use, and the API is what is tested."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from paddock.store import attempts as attempt_store
from paddock.store import steps as step_store
from paddock.store import tasks as task_store
from paddock.store.db import Database
from tests.e2e.server import ServerProcess, wait_for


def plant_proposal(server: ServerProcess, attempt: dict[str, Any], title: str) -> str:
    database = Database(f"sqlite:///{server.data_dir / 'paddock.db'}")
    try:
        with database.session() as session:
            steps = step_store.list_steps(session, attempt["project_id"])
            task = task_store.create_task(
                session,
                project_id=attempt["project_id"],
                step_id=steps[0].id,
                title=title,
                description="",
                proposed_by=attempt["id"],
            )
            return task.id
    finally:
        database.engine.dispose()


def plant_progress(server: ServerProcess, attempt_id: str, line: str) -> None:
    database = Database(f"sqlite:///{server.data_dir / 'paddock.db'}")
    try:
        with database.session() as session:
            attempt_store.update_attempt(
                session, attempt_id, progress=line, progress_at=datetime.now(UTC)
            )
    finally:
        database.engine.dispose()


def start_attempt(server: ServerProcess, repo: Path) -> dict[str, Any]:
    project = server.api("POST", "/api/projects", json={"path": str(repo)})
    server.api("PATCH", f"/api/projects/{project['id']}", json={"card_flow": False})
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "Login"})
    attempt = server.api(
        "POST", f"/api/tasks/{task['id']}/attempts", json={"agent": {"command": "true"}}
    )
    wait_for(
        lambda: server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "awaiting_review"
    )
    assert attempt["progress"] is None and attempt["progress_at"] is None
    assert task["proposed"] is False and task["proposed_by"] is None
    return dict(attempt)


def test_accepting_and_dismissing_proposals(server: ServerProcess, repo: Path) -> None:
    attempt = start_attempt(server, repo)
    project_id = attempt["project_id"]
    kept = plant_proposal(server, attempt, "Add a logout button")
    dropped = plant_proposal(server, attempt, "Rewrite it in Rust")

    shown = server.api("GET", f"/api/tasks/{kept}")
    assert (shown["proposed"], shown["proposed_by"]) == (True, attempt["id"])
    listed = {t["id"]: t for t in server.api("GET", f"/api/projects/{project_id}/tasks")}
    assert (listed[kept]["proposed"], listed[kept]["proposed_by"]) == (True, attempt["id"])
    board = server.api("GET", f"/api/projects/{project_id}/board")
    cards = {c["task"]["id"]: c for c in board["columns"][0]["cards"]}
    assert cards[kept]["task"]["proposed"] is True

    # Pending: no attempt starts on it, it moves to no other step.
    start = server.client.post(f"/api/tasks/{kept}/attempts", json={"agent": {"command": "true"}})
    assert start.status_code == 409 and start.json()["code"] == "task_proposed"
    second = board["columns"][1]["step"]["id"]
    move = server.client.post(f"/api/tasks/{kept}/move", json={"step_id": second})
    assert move.status_code == 409 and move.json()["code"] == "task_proposed"
    patch = server.client.patch(f"/api/tasks/{kept}", json={"step_id": second})
    assert patch.status_code == 409 and patch.json()["code"] == "task_proposed"

    accepted = server.api("POST", f"/api/tasks/{kept}/accept")
    assert (accepted["proposed"], accepted["proposed_by"]) == (False, attempt["id"])
    again = server.client.post(f"/api/tasks/{kept}/accept")
    assert again.status_code == 409 and again.json()["code"] == "not_proposed"
    not_pending = server.client.post(f"/api/tasks/{kept}/dismiss")
    assert not_pending.status_code == 409 and not_pending.json()["code"] == "not_proposed"
    assert server.api("POST", f"/api/tasks/{kept}/move", json={"step_id": second})["step_id"] == (
        second
    )

    gone = server.client.post(f"/api/tasks/{dropped}/dismiss")
    assert gone.status_code == 204
    assert server.client.get(f"/api/tasks/{dropped}").status_code == 404
    missing = server.client.post("/api/tasks/nope/accept")
    assert missing.status_code == 404 and missing.json()["code"] == "task_not_found"


def test_the_progress_line_is_in_the_attempts_json(server: ServerProcess, repo: Path) -> None:
    attempt = start_attempt(server, repo)
    plant_progress(server, attempt["id"], "Running the tests")

    shown = server.api("GET", f"/api/attempts/{attempt['id']}")
    assert shown["progress"] == "Running the tests"
    assert shown["progress_at"] is not None
    listed = server.api("GET", f"/api/tasks/{attempt['task_id']}/attempts")
    assert listed[0]["progress"] == "Running the tests"
    board = server.api("GET", f"/api/projects/{attempt['project_id']}/board")
    [card] = [c for c in board["columns"][0]["cards"] if c["task"]["id"] == attempt["task_id"]]
    assert card["attempt"]["progress"] == "Running the tests"
