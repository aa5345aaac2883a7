"""What users type, refused with a stable code through the real server, the API and the UI's
forms alike: branch names, task titles and descriptions, a project's path (domain rules, see
tests/domain/test_input_rules.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import ServerProcess, make_repo

HTMX = {"HX-Request": "true"}  # the UI's forms post through htmx


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("input-rules") / "data") as srv:
        yield srv


@pytest.fixture(scope="module")
def project(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    repo = make_repo(tmp_path_factory.mktemp("repo") / "repo")
    created: dict[str, Any] = server.api("POST", "/api/projects", json={"path": str(repo)})
    return created


@pytest.fixture(scope="module")
def task(server: ServerProcess, project: dict[str, Any]) -> dict[str, Any]:
    created: dict[str, Any] = server.api(
        "POST", f"/api/projects/{project['id']}/tasks", json={"title": "Input rules"}
    )
    return created


def refused(response: httpx.Response, code: str) -> dict[str, Any]:
    """A 422 JSON error with this stable code and a message for people."""
    assert response.status_code == 422, (response.status_code, response.text)
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["message"], body
    return body


# --- branch names -------------------------------------------------------------------------------


@pytest.mark.parametrize("branch", ["HEAD", "refs/heads/main", "refs/heads/x", "-f", "a..b", "@"])
def test_a_bad_branch_name_is_refused_and_no_attempt_is_made(
    server: ServerProcess, task: dict[str, Any], branch: str
) -> None:
    before = server.api("GET", f"/api/tasks/{task['id']}/attempts")
    response = server.client.post(
        f"/api/tasks/{task['id']}/attempts",
        json={"agent": {"command": "true"}, "branch": branch},
    )
    refused(response, "bad_branch_name")
    assert server.api("GET", f"/api/tasks/{task['id']}/attempts") == before


def test_a_short_branch_name_is_taken(server: ServerProcess, task: dict[str, Any]) -> None:
    attempt = server.api(
        "POST",
        f"/api/tasks/{task['id']}/attempts",
        json={"agent": {"command": "true"}, "branch": "feature/input-rules"},
    )
    assert attempt["branch"] == "feature/input-rules"


# --- task titles and descriptions ---------------------------------------------------------------


@pytest.mark.parametrize(
    "title", ["nul\x00byte", "escape\x1b[31m", "carriage\rreturn", "two\nlines"]
)
def test_control_characters_in_a_title_are_refused_by_the_api_and_the_form(
    server: ServerProcess, project: dict[str, Any], task: dict[str, Any], title: str
) -> None:
    tasks = f"/api/projects/{project['id']}/tasks"
    count = len(server.api("GET", tasks))
    refused(server.client.post(tasks, json={"title": title}), "bad_title")
    refused(server.client.patch(f"/api/tasks/{task['id']}", json={"title": title}), "bad_title")
    form = server.client.post(
        f"/ui/projects/{project['id']}/tasks", data={"title": title}, headers=HTMX
    )
    refused(form, "bad_title")
    assert len(server.api("GET", tasks)) == count
    assert server.api("GET", f"/api/tasks/{task['id']}")["title"] == "Input rules"


def test_a_title_keeps_its_unicode(server: ServerProcess, project: dict[str, Any]) -> None:
    title = "Ünïcödé 😀 — fine"
    created = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": title})
    assert created["title"] == title


def test_a_description_is_bounded(
    server: ServerProcess, project: dict[str, Any], task: dict[str, Any]
) -> None:
    tasks = f"/api/projects/{project['id']}/tasks"
    huge = "x" * (20 << 20)  # 20 MB
    body = refused(
        server.client.post(tasks, json={"title": "big", "description": huge}),
        "description_too_large",
    )
    assert body["limit_bytes"] == 64 * 1024
    refused(
        server.client.patch(f"/api/tasks/{task['id']}", json={"description": huge}),
        "description_too_large",
    )
    form = server.client.post(
        f"/ui/projects/{project['id']}/tasks",
        data={"title": "big", "description": "y" * (64 * 1024 + 1)},
        headers=HTMX,
    )
    refused(form, "description_too_large")
    refused(
        server.client.post(tasks, json={"title": "nul", "description": "a\x00b"}), "bad_description"
    )
    # Up to the limit, with line breaks and tabs, it is taken as it is.
    text = "line one\r\n\tline two\n" + "z" * (64 * 1024 - 21)
    created = server.api("POST", tasks, json={"title": "at the limit", "description": text})
    assert created["description"] == text


# --- a project's path ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["", "   ", ".", "relative/repo", "../repo"])
def test_an_empty_or_relative_project_path_is_refused(
    server: ServerProcess, path: str, tmp_path: Path
) -> None:
    count = len(server.api("GET", "/api/projects"))
    refused(server.client.post("/api/projects", json={"path": path}), "path_not_absolute")
    refused(
        server.client.post("/api/projects", json={"path": path, "create": True}),
        "path_not_absolute",
    )
    form = server.client.post("/ui/projects", data={"path": path}, headers=HTMX)
    refused(form, "path_not_absolute")
    form = server.client.post("/ui/projects", data={"path": path, "mode": "create"}, headers=HTMX)
    refused(form, "path_not_absolute")
    assert len(server.api("GET", "/api/projects")) == count


def test_a_nul_in_a_project_path_is_refused(server: ServerProcess, tmp_path: Path) -> None:
    refused(server.client.post("/api/projects", json={"path": f"{tmp_path}/a\x00b"}), "bad_path")
