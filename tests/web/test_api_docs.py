"""The API's own description and its contracts, through the real server: stable operation ids,
docs served from local files only, JSON errors, lists that are never null."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import ServerProcess, make_repo, wait_for

OPERATION_IDS = {
    "health",
    "list_projects",
    "create_project",
    "get_project",
    "update_project",
    "delete_project",
    "list_steps",
    "list_tasks",
    "create_task",
    "get_task",
    "update_task",
    "delete_task",
    "accept_task",
    "dismiss_task",
    "list_attempts",
    "start_attempt",
    "get_attempt",
    "delete_attempt",
    "stop_attempt",
    "list_processes",
    "get_process",
    "stop_process",
    "get_process_stats",
    "get_process_logs",
    "download_process_logs",
    "stream_process_logs",
    "stream_events",
    "get_board",
    "list_step_cards",
    "get_process_entries",
    "stream_process_entries",
    "list_agents",
    "install_agent",
    "save_agent_variant",
    "delete_agent_variant",
    "rewind_attempt",
    "get_attempt_usage",
    "get_project_usage",
    "create_follow_up",
    "list_follow_ups",
    "cancel_follow_up",
    "start_previews",
    "list_previews",
    "get_preview",
    "stop_preview",
    "restart_preview",
    "open_preview",
    "get_attempt_diff",
    "get_attempt_file_diff",
    "commit_attempt_changes",
    "discard_attempt_changes",
    "merge_attempt",
    "rebase_attempt",
    "list_rebase_conflicts",
    "continue_rebase",
    "abort_rebase",
    "ask_agent_to_resolve",
    "push_attempt",
    "stream_attempt_diff_changes",
    "open_pull_request",
    "list_pull_requests",
    "refresh_pull_request",
    "create_step",
    "get_step",
    "update_step",
    "delete_step",
    "reorder_steps",
    "move_task",
    "list_task_moves",
    "list_task_step_prompts",
    "set_task_step_prompt",
    "delete_task_step_prompt",
    "start_test_run",
    "list_attempt_test_runs",
    "list_task_test_runs",
    "get_test_run",
    "list_test_cases",
    "stop_test_run",
    "list_process_artifacts",
    "view_process_artifact",
    "list_attempt_artifacts",
    "get_artifact",
    "download_artifact",
    "delete_artifact",
    "generate_openapi",
    "get_openapi",
    "get_openapi_info",
    "diff_openapi",
    "list_app_templates",
    "list_apps",
    "create_app",
    "get_app",
    "answer_questions",
    "get_brief",
    "edit_brief",
    "make_plan",
    "choose_plan",
    "start_build",
    "list_builds",
    "get_build",
    "cancel_build",
    "retry_build",
    "list_versions",
    "roll_back",
    "preview_version",
    "get_timeline",
    "stream_timeline",
    "preview_viewed",
    "get_pending_gate",
    "list_gates",
    "resolve_gate",
    "park_app",
    "resume_app",
    "create_change",
    "list_changes",
    "get_change",
    "answer_change",
    "confirm_change",
    "discard_change",
    "get_iterations",
    "get_alignment",
    "list_features",
    "list_runners",
    "create_runner",
    "get_runner",
    "revoke_runner",
    "open_runner_session",
    "get_deploy_readiness",
    "download_version",
    "push_version",
    "open_chat",
    "send_chat_message",
    "run_chat_action",
}
HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("api-docs") / "data") as srv:
        yield srv


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


def test_operation_ids_are_stable_and_unique(server: ServerProcess):
    spec = server.api("GET", "/api/openapi.json")
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "Paddock"
    operations = [
        (method, path, op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method in HTTP_METHODS
    ]
    ids = [op["operationId"] for _, _, op in operations]
    assert len(ids) == len(set(ids)), sorted(ids)
    assert set(ids) == OPERATION_IDS
    by_id = {op["operationId"]: (method, path) for method, path, op in operations}
    assert by_id["start_attempt"] == ("post", "/api/tasks/{task_id}/attempts")
    assert by_id["stream_process_logs"] == ("get", "/api/processes/{process_id}/logs/stream")
    assert by_id["delete_attempt"] == ("delete", "/api/attempts/{attempt_id}")
    # The docs page itself is not an operation of the API.
    assert "/api/docs" not in spec["paths"]
    # The schema of a list endpoint says "array", so generated clients expect [] (not null).
    list_schema = spec["paths"]["/api/projects"]["get"]["responses"]["200"]["content"]
    assert list_schema["application/json"]["schema"]["type"] == "array"


def test_docs_page_loads_only_local_assets(server: ServerProcess):
    response = server.client.get("/api/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in html
    assert "/api/openapi.json" in html
    assert re.findall(r"https?://", html) == []  # no CDN, nothing fetched from elsewhere
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/static/vendor/swagger-ui/swagger-ui.css" in assets
    for asset in assets:
        assert asset.startswith("/static/"), asset
        served = server.client.get(asset)
        assert served.status_code == 200, asset
        assert served.content, asset
    bundle = server.client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")
    assert "javascript" in bundle.headers["content-type"]
    assert "SwaggerUIBundle" in bundle.text


def _assert_json_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    return body


def test_errors_are_json_with_code_and_message(server: ServerProcess, tmp_path: Path):
    client = server.client
    missing = "0" * 32
    _assert_json_error(client.get(f"/api/projects/{missing}"), 404, "project_not_found")
    _assert_json_error(client.get(f"/api/tasks/{missing}"), 404, "task_not_found")
    _assert_json_error(client.get(f"/api/attempts/{missing}"), 404, "attempt_not_found")
    _assert_json_error(client.get(f"/api/processes/{missing}"), 404, "process_not_found")
    # A stream of an unknown process answers with a JSON error, not an empty event stream.
    _assert_json_error(
        client.get(f"/api/processes/{missing}/logs/stream"), 404, "process_not_found"
    )
    _assert_json_error(
        client.post(f"/api/tasks/{missing}/attempts", json={"agent": {"command": "true"}}),
        404,
        "task_not_found",
    )
    _assert_json_error(
        client.post(f"/api/tasks/{missing}/attempts", json={}), 422, "agent_command_missing"
    )
    plain = tmp_path / "plain"
    plain.mkdir()
    _assert_json_error(
        client.post("/api/projects", json={"path": str(plain)}), 422, "not_a_git_repo"
    )
    body = _assert_json_error(client.post("/api/projects", json={}), 422, "validation_error")
    assert body["details"] == [{"location": "body.path", "message": "Field required"}]
    _assert_json_error(
        client.post(
            "/api/projects", content=b"{not json", headers={"content-type": "application/json"}
        ),
        422,
        "validation_error",
    )
    _assert_json_error(
        client.get(f"/api/processes/{missing}/logs", params={"limit": 0}), 422, "validation_error"
    )
    _assert_json_error(client.get("/api/no-such-thing"), 404, "not_found")
    _assert_json_error(client.delete("/api/health"), 405, "method_not_allowed")
    _assert_json_error(client.get("/static/vendor/no-such-file.js"), 404, "not_found")


def test_lists_are_empty_arrays_never_null(server: ServerProcess, repo: Path):
    project = server.api("POST", "/api/projects", json={"path": str(repo)})
    assert project["copy_files"] == []
    assert server.api("GET", f"/api/projects/{project['id']}/tasks") == []
    steps = server.api("GET", f"/api/projects/{project['id']}/steps")
    assert [s["name"] for s in steps][:1] == ["To do"]
    assert server.api("GET", f"/api/projects/{project['id']}/tasks", params={"step_id": "x"}) == []
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "t"})
    assert server.api("GET", f"/api/tasks/{task['id']}/attempts") == []
    attempt = server.api(
        "POST", f"/api/tasks/{task['id']}/attempts", json={"agent": {"command": "true"}}
    )
    assert attempt["agent"]["env"] == {} and attempt["agent"]["secret_env"] == []
    wait_for(
        lambda: server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "awaiting_review"
    )
    (proc,) = server.api("GET", f"/api/attempts/{attempt['id']}/processes")
    page = server.api("GET", f"/api/processes/{proc['id']}/logs", params={"after": 10**6})
    assert page == {"lines": [], "next_after": 10**6}
    assert server.api("GET", f"/api/processes/{proc['id']}/logs", params={"q": "nothing"}) == {
        "lines": [],
        "next_after": 0,
    }
    server.api("DELETE", f"/api/attempts/{attempt['id']}", params={"delete_branch": True})
    assert server.api("GET", f"/api/tasks/{task['id']}/attempts") == []
