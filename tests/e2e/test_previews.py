"""Previews through the real server: a dev server per attempt, reached through the proxy by
Host alone, behind the one-time-ticket guard; its failures explained."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import ServerProcess, make_repo, wait_for

STATIC = "python3 -m http.server $PORT --bind 127.0.0.1"
PREVIEW_ENV = {"PADDOCK_PREVIEW_READY_TIMEOUT_S": "20", "PADDOCK_PREVIEW_IDLE_MINUTES": "0"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "data", env=PREVIEW_ENV) as srv:
        yield srv


@pytest.fixture
def impatient(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server that waits 3 s for a dev server to answer."""
    env = {**PREVIEW_ENV, "PADDOCK_PREVIEW_READY_TIMEOUT_S": "3"}
    with ServerProcess(tmp_path / "data", env=env) as srv:
        yield srv


def project_with(server: ServerProcess, repo: Path, dev: str, **changes: Any) -> dict[str, Any]:
    project = server.api("POST", "/api/projects", json={"path": str(repo), "scripts": {"dev": dev}})
    if changes:
        project = server.api("PATCH", f"/api/projects/{project['id']}", json=changes)
    return project


def attempt_writing(server: ServerProcess, project: dict[str, Any], command: str) -> dict[str, Any]:
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "Page"})
    attempt = server.api(
        "POST",
        f"/api/tasks/{task['id']}/attempts",
        json={"agent": {"profile": "script", "command": command}},
    )
    wait_for(
        lambda: server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "awaiting_review",
        60,
    )
    return attempt


def start(server: ServerProcess, attempt: dict[str, Any], **body: Any) -> list[dict[str, Any]]:
    previews: list[dict[str, Any]] = server.api(
        "POST", f"/api/attempts/{attempt['id']}/previews", json={"wait": True, **body}
    )
    return previews


def through_proxy(
    server: ServerProcess,
    preview: dict[str, Any],
    path: str = "/",
    *,
    way: str = "plane",
    **kwargs: Any,
) -> httpx.Response:
    """A request to the preview the way a client without *.localhost resolution makes it:
    to 127.0.0.1 with the preview's Host; through the data plane (HAProxy, the port the
    preview's URL names) or the server's own port (its in-process proxy)."""
    port, client = (
        (server.preview_port, server.plane_client)
        if way == "plane"
        else (server.port, server.client)
    )
    headers = {"host": f"{preview['host']}.preview.localhost:{port}"}
    headers.update(kwargs.pop("headers", {}))
    return client.request(
        kwargs.pop("method", "GET"), path, headers=headers, follow_redirects=False, **kwargs
    )


# The guard's tests run through both ways in.
WAYS = pytest.mark.parametrize("way", ["plane", "server"])


def key_of(server: ServerProcess, preview: dict[str, Any]) -> str:
    key: str = server.api("POST", f"/api/previews/{preview['id']}/open")["key"]
    return key


@WAYS
def test_the_open_link_lets_a_browser_in_once_and_the_page_is_the_attempts_own(
    server: ServerProcess, tmp_path: Path, way: str
) -> None:
    repo = make_repo(tmp_path / "repo", {"index.html": "<h1>main</h1>\n"})
    project = project_with(server, repo, STATIC)
    attempt = attempt_writing(server, project, "echo '<h1>attempt page</h1>' > index.html")
    [preview] = start(server, attempt)
    assert preview["status"] == "running", preview
    assert preview["service"] == "web" and preview["host"] == attempt["id"][:10]
    assert preview["url"] == f"http://{preview['host']}.preview.localhost:{server.preview_port}/"

    refused = through_proxy(server, preview, way=way)
    assert refused.status_code == 401
    assert "open it from Paddock" in refused.text  # Paddock's page: the app was never asked

    link = server.api("POST", f"/api/previews/{preview['id']}/open")["url"]
    assert link.startswith(preview["url"] + "?paddock_ticket=")
    entered = through_proxy(server, preview, "/?" + link.split("?", 1)[1], way=way)
    assert entered.status_code == 303 and entered.headers["location"] == "/"
    cookie = entered.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Domain" not in cookie
    name, value = cookie.split(";", 1)[0].split("=", 1)
    page = through_proxy(server, preview, way=way, headers={"cookie": f"{name}={value}"})
    assert page.status_code == 200 and page.text == "<h1>attempt page</h1>\n"
    again = through_proxy(server, preview, "/?" + link.split("?", 1)[1], way=way)
    assert again.status_code == 401 and "used already" in again.text
    forged = through_proxy(
        server, preview, way=way, headers={"cookie": f"{name}={'0' * len(value)}"}
    )
    assert forged.status_code == 401


@WAYS
def test_two_attempts_are_previewed_at_once_each_with_its_branch(
    server: ServerProcess, tmp_path: Path, way: str
) -> None:
    repo = make_repo(tmp_path / "repo", {"index.html": "main\n"})
    project = project_with(server, repo, STATIC)
    first = attempt_writing(server, project, "echo one > index.html")
    second = attempt_writing(server, project, "echo two > index.html")
    [one] = start(server, first)
    [two] = start(server, second)
    assert one["host"] != two["host"] and one["port"] != two["port"]
    for preview, text in ((one, "one\n"), (two, "two\n")):
        key = key_of(server, preview)
        answer = through_proxy(
            server, preview, "/index.html", way=way, headers={"x-paddock-preview-key": key}
        )
        assert answer.text == text
    # One preview's key does not open the other.
    one_key = {"x-paddock-preview-key": key_of(server, one)}
    other = through_proxy(server, two, way=way, headers=one_key)
    assert other.status_code == 401


def test_a_dev_server_that_never_listens_fails_with_its_last_lines(
    impatient: ServerProcess, tmp_path: Path
) -> None:
    server = impatient
    repo = make_repo(tmp_path / "repo")
    dev = "echo compiling; echo 'warming up forever'; sleep 600"
    project = project_with(server, repo, dev)
    attempt = attempt_writing(server, project, "true")
    [preview] = start(server, attempt)
    assert preview["status"] == "failed"
    assert preview["error"].startswith("not ready after 3 s")
    assert "warming up forever" in preview["error"] and preview["debug_id"]
    assert preview["debug_id"] in server.log()
    proc = server.api("GET", f"/api/processes/{preview['process_id']}")
    assert proc["status"] in ("stopped", "failed") and proc["reason"] == "dev_server"


def test_a_crashing_dev_server_fails_fast_and_says_why(
    server: ServerProcess, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo")
    project = project_with(server, repo, "echo 'Error: cannot find module vite' >&2; exit 3")
    attempt = attempt_writing(server, project, "true")
    [preview] = start(server, attempt)
    assert preview["status"] == "failed"
    assert preview["error"].startswith("the dev server exited")
    assert "cannot find module vite" in preview["error"]


def test_a_server_that_says_its_port_is_taken_is_started_on_another(
    server: ServerProcess, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {"index.html": "second try\n"})
    # The first run finds its port "taken" (as a dev server would print it), the next one works.
    dev = (
        "if [ ! -e .tried ]; then touch .tried; "
        "echo 'Error: listen EADDRINUSE: address already in use 127.0.0.1:'$PORT >&2; exit 1; fi; "
        + STATIC
    )
    project = project_with(server, repo, dev)
    attempt = attempt_writing(server, project, "true")
    [preview] = start(server, attempt)
    assert preview["status"] == "running", preview
    answer = through_proxy(
        server, preview, "/index.html", headers={"x-paddock-preview-key": key_of(server, preview)}
    )
    assert answer.text == "second try\n"
    runs = [
        p
        for p in server.api("GET", f"/api/attempts/{attempt['id']}/processes")
        if p["reason"] == "dev_server"
    ]
    assert len(runs) == 2 and runs[0]["status"] == "failed"


def test_an_app_that_ignores_port_is_followed_to_the_port_it_prints(
    server: ServerProcess, tmp_path: Path
) -> None:
    own = free_port()
    repo = make_repo(tmp_path / "repo", {"index.html": "own port\n"})
    dev = (
        f"echo '  Local:   http://localhost:{own}/'; python3 -m http.server {own} --bind 127.0.0.1"
    )
    project = project_with(server, repo, dev)
    attempt = attempt_writing(server, project, "true")
    [preview] = start(server, attempt)
    assert preview["status"] == "running", preview
    assert f"listens on {own}" in preview["notice"]
    answer = through_proxy(
        server, preview, "/index.html", headers={"x-paddock-preview-key": key_of(server, preview)}
    )
    assert answer.text == "own port\n"


def test_a_printed_url_of_someone_elses_port_is_not_followed(
    impatient: ServerProcess, tmp_path: Path
) -> None:
    """An app cannot point the proxy at another server (here Paddock's own API)."""
    server = impatient
    repo = make_repo(tmp_path / "repo")
    dev = f"echo 'Local: http://127.0.0.1:{server.port}/'; sleep 600"
    project = project_with(server, repo, dev)
    attempt = attempt_writing(server, project, "true")
    [preview] = start(server, attempt)
    assert preview["status"] == "failed" and "not ready" in preview["error"]


@WAYS
def test_unknown_hosts_and_stopped_previews_get_paddocks_answer(
    server: ServerProcess, tmp_path: Path, way: str
) -> None:
    repo = make_repo(tmp_path / "repo", {"index.html": "x\n"})
    project = project_with(server, repo, STATIC)
    attempt = attempt_writing(server, project, "true")
    [preview] = start(server, attempt)
    client, port = (
        (server.plane_client, server.preview_port)
        if way == "plane"
        else (
            server.client,
            server.port,
        )
    )
    unknown = client.get(
        "/", headers={"host": f"nothing.preview.localhost:{port}", "accept": "application/json"}
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "preview_not_found"
    stopped = server.api("DELETE", f"/api/previews/{preview['id']}")
    assert stopped["status"] == "stopped" and stopped["port"] is None
    answer = through_proxy(server, preview, way=way, headers={"accept": "application/json"})
    assert answer.status_code == 503 and answer.json()["code"] == "preview_not_running"
    no_link = server.client.post(f"/api/previews/{preview['id']}/open")
    assert no_link.status_code == 409 and no_link.json()["code"] == "preview_not_running"
    restarted = server.api("POST", f"/api/previews/{preview['id']}/restart", json={"wait": True})
    assert restarted["status"] == "running" and restarted["host"] == preview["host"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def adjacent_free_ports() -> int:
    """A port P such that P and P+1 are free now."""
    for _ in range(100):
        port = free_port()
        if port < 65535 and _free(port + 1):
            return port
    raise AssertionError("no two adjacent free ports")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_a_port_something_else_holds_is_never_handed_out(tmp_path: Path) -> None:
    first = adjacent_free_ports()
    env = {**PREVIEW_ENV, "PADDOCK_PREVIEW_PORTS": f"{first}-{first + 1}"}
    with socket.socket() as squatter, ServerProcess(tmp_path / "data", env=env) as server:
        squatter.bind(("127.0.0.1", first))
        squatter.listen()
        repo = make_repo(tmp_path / "repo", {"index.html": "x\n"})
        project = project_with(server, repo, STATIC)
        one = attempt_writing(server, project, "true")
        [preview] = start(server, one)
        assert preview["status"] == "running" and preview["port"] == first + 1
        # The range is used up now: the next start says so.
        two = attempt_writing(server, project, "true")
        refused = server.client.post(f"/api/attempts/{two['id']}/previews", json={"wait": True})
        assert refused.status_code == 503 and refused.json()["code"] == "no_free_port"
        [left] = server.api("GET", f"/api/attempts/{two['id']}/previews")
        assert left["status"] == "failed" and "no free port" in left["error"]
