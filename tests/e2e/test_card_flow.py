"""Attempt states and the card flow through the real server: a card goes to "In progress" when
its attempt starts and to "In review" when the agent's turn ends; a gate that refuses keeps it
out and says so in its history; a stop is `stopped`, not a failure; the preview can start
itself when the turn ends; a forced move into a testing step makes no attempt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.server import ServerProcess, wait_for

# The agent waits for a file the test creates: the card is seen while the turn runs.
WAITING = 'while [ ! -f "{go}" ]; do sleep 0.05; done; echo v2 > app.txt; echo done'


def new_project(server: ServerProcess, repo: Path, **settings: Any) -> dict[str, Any]:
    project: dict[str, Any] = server.api(
        "POST", "/api/projects", json={"path": str(repo), "sandbox": {"provider": "none"}}
    )
    if settings:
        project = server.api("PATCH", f"/api/projects/{project['id']}", json=settings)
    return project


def new_task(server: ServerProcess, project: dict[str, Any], title: str) -> dict[str, Any]:
    task: dict[str, Any] = server.api(
        "POST", f"/api/projects/{project['id']}/tasks", json={"title": title}
    )
    return task


def start(server: ServerProcess, task: dict[str, Any], command: str) -> dict[str, Any]:
    attempt: dict[str, Any] = server.api(
        "POST",
        f"/api/tasks/{task['id']}/attempts",
        json={"agent": {"profile": "script", "command": command}},
    )
    return attempt


def steps(server: ServerProcess, project: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in server.api("GET", f"/api/projects/{project['id']}/steps")}


def step_of(server: ServerProcess, task: dict[str, Any], project: dict[str, Any]) -> str:
    names = {s["id"]: name for name, s in steps(server, project).items()}
    return names[server.api("GET", f"/api/tasks/{task['id']}")["step_id"]]


def status(server: ServerProcess, attempt: dict[str, Any], wanted: str) -> dict[str, Any]:
    found: dict[str, Any] = wait_for(
        lambda: (
            (a := server.api("GET", f"/api/attempts/{attempt['id']}"))["status"] == wanted and a
        ),
        timeout=60,
    )
    return found


def moves(server: ServerProcess, task: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = server.api("GET", f"/api/tasks/{task['id']}/moves")
    return found


def test_the_card_follows_its_attempt_and_the_steps_have_roles(
    server: ServerProcess, repo: Path, tmp_path: Path
) -> None:
    project = new_project(server, repo)
    assert project["card_flow"] is True and project["auto_preview"] is False
    roles = {name: s["role"] for name, s in steps(server, project).items()}
    assert roles == {
        "To do": None,
        "In progress": "in_progress",
        "In review": "review",
        "Done": "done",
        "Cancelled": None,
    }
    task = new_task(server, project, "Make it v2")
    go = tmp_path / "go"
    attempt = start(server, task, WAITING.format(go=go))

    wait_for(lambda: step_of(server, task, project) == "In progress")
    assert server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "running"
    go.touch()
    done = status(server, attempt, "awaiting_review")
    assert done["error"] is None
    wait_for(lambda: step_of(server, task, project) == "In review")

    history = moves(server, task)
    ids = {name: s["id"] for name, s in steps(server, project).items()}
    assert [(m["from_step_id"], m["to_step_id"]) for m in history] == [
        (ids["To do"], ids["In progress"]),
        (ids["In progress"], ids["In review"]),
    ]
    assert [m["reason"] for m in history] == [
        "card flow: an attempt started",
        "card flow: the agent's turn ended",
    ]
    assert not any(m["forced"] or m["refused"] for m in history)

    # A follow-up on a card in review does not pull it back: the flow only moves forward.
    server.api("POST", f"/api/attempts/{attempt['id']}/follow-ups", json={"prompt": "again"})
    wait_for(lambda: len(server.api("GET", f"/api/attempts/{attempt['id']}/processes")) == 2)
    status(server, attempt, "awaiting_review")
    assert step_of(server, task, project) == "In review"
    assert len(moves(server, task)) == 2


def test_a_gate_that_refuses_keeps_the_card_out_and_says_why(
    server: ServerProcess, repo: Path
) -> None:
    project = new_project(server, repo)
    review = steps(server, project)["In review"]
    server.api("PATCH", f"/api/steps/{review['id']}", json={"gate": ["unit"]})
    task = new_task(server, project, "Gated")
    attempt = start(server, task, "echo v2 > app.txt")
    status(server, attempt, "awaiting_review")

    refused = wait_for(lambda: (m := moves(server, task)) and m[-1]["refused"] and m[-1])
    assert refused["to_step_id"] == review["id"] and not refused["forced"]
    assert refused["reason"] == "card flow: the agent's turn ended"
    assert [f["reason"] for f in refused["failing"]] == [
        "the unit tests have not run in this attempt"
    ]
    assert step_of(server, task, project) == "In progress"  # it stayed where it was
    # The board carries the refusal on the card.
    board = server.api("GET", f"/api/projects/{project['id']}/board")
    cards = [c for column in board["columns"] for c in column["cards"]]
    (card,) = [c for c in cards if c["task"]["id"] == task["id"]]
    assert card["notice"]["id"] == refused["id"]


def test_without_the_card_flow_cards_stay_put(server: ServerProcess, repo: Path) -> None:
    project = new_project(server, repo, card_flow=False)
    assert project["card_flow"] is False
    task = new_task(server, project, "Stays")
    attempt = start(server, task, "true")
    status(server, attempt, "awaiting_review")
    assert step_of(server, task, project) == "To do"
    assert moves(server, task) == []


def test_a_stop_is_stopped_not_a_failure(server: ServerProcess, repo: Path) -> None:
    project = new_project(server, repo)
    task = new_task(server, project, "Stopped")
    attempt = start(server, task, "echo working; sleep 300")
    wait_for(
        lambda: any(
            p["status"] == "running"
            for p in server.api("GET", f"/api/attempts/{attempt['id']}/processes")
        )
    )
    stopped = server.api("POST", f"/api/attempts/{attempt['id']}/stop")
    assert (stopped["status"], stopped["error"]) == ("stopped", None)
    (proc,) = server.api("GET", f"/api/attempts/{attempt['id']}/processes")
    assert (proc["status"], proc["error"]) == ("stopped", None)
    log = server.client.get(f"/api/processes/{proc['id']}/logs/download").text
    assert log.rstrip().splitlines()[-1].startswith("stopped (")
    # Stopped work is not review work: the card stays in progress.
    assert step_of(server, task, project) == "In progress"


def test_the_preview_starts_when_the_turn_ends_if_the_project_asks(
    server: ServerProcess, repo: Path
) -> None:
    dev = {"dev": "python3 -m http.server $PORT --bind 127.0.0.1"}
    asked = new_project(server, repo, auto_preview=True, scripts=dev)
    assert asked["auto_preview"] is True
    attempt = start(server, new_task(server, asked, "Previewed"), "true")
    status(server, attempt, "awaiting_review")
    previews = wait_for(lambda: server.api("GET", f"/api/attempts/{attempt['id']}/previews"))
    assert [p["service"] for p in previews] == ["web"]
    wait_for(lambda: server.api("GET", f"/api/previews/{previews[0]['id']}")["status"] == "running")

    # Off (the default): no preview starts by itself.
    server.api("PATCH", f"/api/projects/{asked['id']}", json={"auto_preview": False})
    second = start(server, new_task(server, asked, "Not previewed"), "true")
    status(server, second, "awaiting_review")
    assert server.api("GET", f"/api/attempts/{second['id']}/previews") == []


def test_a_forced_move_into_a_testing_step_makes_no_attempt(
    server: ServerProcess, repo: Path
) -> None:
    project = new_project(server, repo, scripts={"unit_test": "true"})
    qa = server.api(
        "POST",
        f"/api/projects/{project['id']}/steps",
        json={"name": "QA", "position": 1, "automation": "run_unit_tests", "gate": ["unit"]},
    )
    task = new_task(server, project, "No attempt yet")
    refused = server.client.post(f"/api/tasks/{task['id']}/move", json={"step_id": qa["id"]})
    assert refused.status_code == 409 and refused.json()["code"] == "gate_failed"

    moved = server.client.post(
        f"/api/tasks/{task['id']}/move",
        json={"step_id": qa["id"], "force": True, "reason": "the tests run later"},
    )
    assert moved.status_code == 200, moved.text
    move = wait_for(lambda: (m := moves(server, task)) and m[-1]["automation_error"] and m[-1])
    assert move["forced"] and move["reason"] == "the tests run later"
    assert "has no attempt to test" in move["automation_error"] and move["ran"] is None
    assert server.api("GET", f"/api/tasks/{task['id']}/attempts") == []
