"""The board through the JSON API: paged columns, filter, newest attempt per card with its
secrets masked, and moves by `below`."""

from pathlib import Path

from tests.e2e.server import ServerProcess, wait_for


def test_board_pages_filters_and_masks(server: ServerProcess, repo: Path):
    project = server.api("POST", "/api/projects", json={"path": str(repo)})
    # The cards stay in "To do" while their attempts run (no card flow): a page of one column.
    server.api("PATCH", f"/api/projects/{project['id']}", json={"card_flow": False})
    tasks = [
        server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": f"task {i}"})
        for i in range(5)
    ]
    attempt = server.api(
        "POST",
        f"/api/tasks/{tasks[0]['id']}/attempts",
        json={
            "agent": {
                "command": "true",
                "env": {"API_TOKEN": "s3cret-value", "PLAIN": "shown"},
                "secret_env": ["API_TOKEN"],
            }
        },
    )
    wait_for(
        lambda: server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "awaiting_review"
    )

    board = server.api("GET", f"/api/projects/{project['id']}/board", params={"limit": 2})
    todo = board["columns"][0]
    assert [c["step"]["name"] for c in board["columns"]][:2] == ["To do", "In progress"]
    assert (todo["total"], todo["offset"]) == (5, 0)
    assert [c["task"]["title"] for c in todo["cards"]] == ["task 0", "task 1"]
    first = todo["cards"][0]
    assert first["attempt"]["id"] == attempt["id"] and first["attempt_count"] == 1
    assert first["attempt"]["agent"]["env"] == {"API_TOKEN": "********", "PLAIN": "shown"}
    assert todo["cards"][1]["attempt"] is None

    step = todo["step"]["id"]
    rest = server.api("GET", f"/api/steps/{step}/cards", params={"offset": 2, "limit": 2})
    assert [c["task"]["title"] for c in rest["cards"]] == ["task 2", "task 3"]
    found = server.api("GET", f"/api/projects/{project['id']}/board", params={"q": "TASK 4"})
    assert [c["task"]["title"] for c in found["columns"][0]["cards"]] == ["task 4"]

    server.api("PATCH", f"/api/tasks/{tasks[4]['id']}", json={"below": tasks[0]["id"]})
    order = server.api("GET", f"/api/projects/{project['id']}/board")["columns"][0]["cards"]
    assert [c["task"]["title"] for c in order][:3] == ["task 0", "task 4", "task 1"]

    refused = server.client.patch(f"/api/tasks/{tasks[1]['id']}", json={"below": "nope"})
    assert refused.status_code == 409 and refused.json()["code"] == "bad_anchor"
    missing = server.client.get("/api/steps/nope/cards")
    assert missing.status_code == 404 and missing.json()["code"] == "step_not_found"
